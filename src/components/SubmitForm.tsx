import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { FormComponent } from '@jupyterlab/ui-components';
import type { ErrorSchema } from '@rjsf/utils';
import * as React from 'react';
import { submissionSchema, submissionUiSchema } from '../schema';
import {
  IPreview,
  ISubmissionForm,
  ISubmitResult,
  ObservationState,
  SubmitState
} from '../tokens';
import { toErrorSchema, validate, validator } from '../validator';
import { formatBytes } from './format';
import { ExperimentWidget, IObservationContext } from './Observation';

export interface ISubmitFormProps {
  notebookPath: string | null;
  loggedIn: boolean;
  form: ISubmissionForm;
  preview: IPreview | null;
  previewError: string;
  submit: SubmitState;
  /** What the archive's catalogue says of the experiment code typed. */
  observation?: ObservationState;
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
  const { trans, form } = props;
  const schema = React.useMemo(() => submissionSchema(trans), [trans]);
  const uiSchema = React.useMemo(() => withExperimentWidget(trans), [trans]);
  const context: IObservationContext = {
    observation: props.observation ?? { kind: 'none' },
    trans
  };
  const [errors, setErrors] = React.useState<ErrorSchema | undefined>();
  const formRef = React.useRef<HTMLDivElement>(null);
  // after every render: rjsf may have drawn new fields (another author)
  React.useEffect(() => labelFields(formRef.current));

  if (!props.notebookPath) {
    return <NoNotebook trans={trans} />;
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
    <div className="jp-evn-submit-form" ref={formRef}>
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
        formContext={context}
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
      <SubmitButton {...props} onSubmit={onSubmit} />
      <SubmitOutcome {...props} onSubmit={onSubmit} />
    </div>
  );
}

/** The form's layout, with the catalogue's line under the experiment field. */
function withExperimentWidget(trans: TranslationBundle) {
  const ui = submissionUiSchema(trans);
  return {
    ...ui,
    experiment: { ...ui.experiment, 'ui:widget': ExperimentWidget }
  };
}

/**
 * JupyterLab's form template writes a field's title in a <div>, not a
 * <label>: name each control by its visible title (aria-labelledby), so that
 * a screen reader announces the field. Its buttons of list items (move up,
 * down, remove) have only a title, which the button inside their web
 * component does not get: the same words as their aria-label, which it does.
 */
function labelFields(form: HTMLElement | null): void {
  form?.querySelectorAll('.jp-ArrayOperationsButton[title]').forEach(button => {
    button.setAttribute('aria-label', button.getAttribute('title') ?? '');
  });
  form?.querySelectorAll('.jp-FormGroup-content').forEach(group => {
    const title = group.querySelector(
      ':scope > .jp-FormGroup-compactTitle > .jp-FormGroup-fieldLabel'
    );
    const control = group.querySelector(
      ':scope > .jp-inputFieldWrapper input, :scope > .jp-inputFieldWrapper textarea, :scope > .jp-inputFieldWrapper select'
    );
    if (title && control?.id) {
      title.id = `${control.id}__label`;
      control.setAttribute('aria-labelledby', title.id);
    }
  });
}

function NoNotebook(props: { trans: TranslationBundle }): JSX.Element {
  return (
    <div className="jp-evn-submit-form jp-evn-submit-empty">
      <p>
        {props.trans.__(
          'Open a notebook and click "Submit to EVN archive" in its toolbar, or pick a notebook in the file browser.'
        )}
      </p>
    </div>
  );
}

function isBusy(submit: SubmitState): boolean {
  return submit.kind === 'saving' || submit.kind === 'uploading';
}

/** Submit: disabled while busy, logged out, or over the size limit. */
function SubmitButton(props: ISubmitFormProps): JSX.Element {
  const { trans, loggedIn } = props;
  const busy = isBusy(props.submit);
  const tooLarge =
    props.preview !== null && props.preview.size > props.preview.limit;
  return (
    <div className="jp-evn-submit-actions">
      <button
        className="jp-mod-styled jp-mod-accept jp-evn-submit-button jp-evn-submit-submit"
        onClick={props.onSubmit}
        disabled={busy || !loggedIn || tooLarge}
        title={loggedIn ? '' : trans.__('Log in first to submit a notebook')}
      >
        {busy ? trans.__('Submitting…') : trans.__('Submit')}
      </button>
    </div>
  );
}

/** The progress of a submission, its permalink, or its error and Retry. */
function SubmitOutcome(props: ISubmitFormProps): JSX.Element | null {
  const { trans, submit } = props;
  switch (submit.kind) {
    case 'saving':
    case 'uploading':
      return (
        <div className="jp-evn-submit-progress" role="status">
          <progress />
          <span>
            {submit.kind === 'saving'
              ? trans.__('Saving the notebook…')
              : trans.__('Uploading to the archive…')}
          </span>
        </div>
      );
    case 'done':
      return <SubmitResult result={submit.result} trans={trans} />;
    case 'error':
      return (
        <div className="jp-evn-submit-error" role="alert">
          <p>{submit.message}</p>
          <button
            className="jp-mod-styled jp-evn-submit-button"
            onClick={props.onSubmit}
          >
            {trans.__('Retry')}
          </button>
        </div>
      );
    default:
      return null;
  }
}

function SubmitResult(props: {
  result: ISubmitResult;
  trans: TranslationBundle;
}): JSX.Element {
  const { result, trans } = props;
  return (
    <div className="jp-evn-submit-result" role="status">
      <p>
        {result.created
          ? trans.__('Archived as version %1.', result.version)
          : trans.__('Already archived as version %1.', result.version)}
      </p>
      {result.public_from && (
        <p className="jp-evn-submit-embargo">
          {trans.__(
            'The data of %1 are proprietary: your notebook stays private until %2, when it becomes public with them.',
            result.experiment,
            result.public_from.slice(0, 10)
          )}
        </p>
      )}
      <a
        className="jp-evn-submit-permalink"
        href={result.permalink}
        target="_blank"
        rel="noopener noreferrer"
      >
        {result.permalink}
      </a>
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
