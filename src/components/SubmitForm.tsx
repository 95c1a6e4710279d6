import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { FormComponent } from '@jupyterlab/ui-components';
import type { ErrorSchema } from '@rjsf/utils';
import * as React from 'react';
import { submissionSchema, submissionUiSchema } from '../schema';
import { IPreview, ISubmissionForm, SubmitState } from '../tokens';
import { toErrorSchema, validate, validator } from '../validator';
import { formatBytes } from './format';

export interface ISubmitFormProps {
  notebookPath: string | null;
  loggedIn: boolean;
  form: ISubmissionForm;
  preview: IPreview | null;
  previewError: string;
  submit: SubmitState;
  trans: TranslationBundle;
  translator?: ITranslator;
  onChange: (form: ISubmissionForm) => void;
  onSubmit: () => void;
}

/**
 * The submit form, generated from the submission schema, with the size of
 * the upload, the Submit button, its progress and the permalink.
 */
export function SubmitForm(props: ISubmitFormProps): JSX.Element {
  const { trans, form, submit } = props;
  const schema = React.useMemo(() => submissionSchema(trans), [trans]);
  const uiSchema = React.useMemo(() => submissionUiSchema(trans), [trans]);
  const [errors, setErrors] = React.useState<ErrorSchema | undefined>();
  const busy = submit.kind === 'saving' || submit.kind === 'uploading';
  const tooLarge =
    props.preview !== null && props.preview.size > props.preview.limit;

  if (!props.notebookPath) {
    return (
      <div className="jp-evn-submit-form jp-evn-submit-empty">
        <p>
          {trans.__(
            'Open a notebook and click "Submit to EVN archive" in its toolbar, or pick a notebook in the file browser.'
          )}
        </p>
      </div>
    );
  }

  const onSubmit = () => {
    const list = validate(schema, form);
    if (list.length > 0) {
      setErrors(toErrorSchema(list));
      return;
    }
    setErrors(undefined);
    props.onSubmit();
  };

  return (
    <div className="jp-evn-submit-form">
      <p className="jp-evn-submit-path">
        {trans.__('Notebook:')}{' '}
        <code title={props.notebookPath}>{props.notebookPath}</code>
      </p>
      <FormComponent
        schema={schema}
        uiSchema={uiSchema as any}
        formData={form as any}
        validator={validator}
        extraErrors={errors}
        showErrorList={false}
        noHtml5Validate
        compact
        translator={props.translator}
        onChange={(event: { formData?: unknown }) =>
          props.onChange(event.formData as ISubmissionForm)
        }
      />
      <SizePreview {...props} />
      {errors && (
        <p className="jp-evn-submit-error" role="alert">
          {trans.__('Please correct the marked fields.')}
        </p>
      )}
      <div className="jp-evn-submit-actions">
        <button
          className="jp-mod-styled jp-mod-accept jp-evn-submit-button jp-evn-submit-submit"
          onClick={onSubmit}
          disabled={busy || !props.loggedIn || tooLarge}
          title={
            props.loggedIn ? '' : trans.__('Log in first to submit a notebook')
          }
        >
          {busy ? trans.__('Submitting…') : trans.__('Submit')}
        </button>
      </div>
      {busy && (
        <div className="jp-evn-submit-progress" role="status">
          <progress />
          <span>
            {submit.kind === 'saving'
              ? trans.__('Saving the notebook…')
              : trans.__('Uploading to the archive…')}
          </span>
        </div>
      )}
      {submit.kind === 'done' && (
        <div className="jp-evn-submit-result" role="status">
          <p>
            {submit.result.created
              ? trans.__('Archived as version %1.', submit.result.version)
              : trans.__(
                  'Already archived as version %1.',
                  submit.result.version
                )}
          </p>
          <a
            className="jp-evn-submit-permalink"
            href={submit.result.permalink}
            target="_blank"
            rel="noopener noreferrer"
          >
            {submit.result.permalink}
          </a>
        </div>
      )}
      {submit.kind === 'error' && (
        <div className="jp-evn-submit-error" role="alert">
          <p>{submit.message}</p>
          <button
            className="jp-mod-styled jp-evn-submit-button"
            onClick={onSubmit}
          >
            {trans.__('Retry')}
          </button>
        </div>
      )}
    </div>
  );
}

function SizePreview(props: ISubmitFormProps): JSX.Element | null {
  const { preview, previewError, trans } = props;
  if (previewError) {
    return <p className="jp-evn-submit-warning">{previewError}</p>;
  }
  if (!preview) {
    return null;
  }
  const tooLarge = preview.size > preview.limit;
  return (
    <p
      className={
        tooLarge
          ? 'jp-evn-submit-size jp-evn-submit-error'
          : 'jp-evn-submit-size'
      }
    >
      {trans.__(
        'Upload size: %1 (notebook %2, %3 outputs removed; limit %4).',
        formatBytes(preview.size),
        formatBytes(preview.original_size),
        preview.stripped_outputs,
        formatBytes(preview.limit)
      )}
      {tooLarge && ' ' + trans.__('Too large: strip outputs to submit.')}
    </p>
  );
}
