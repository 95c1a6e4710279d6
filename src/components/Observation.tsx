import { TranslationBundle } from '@jupyterlab/translation';
import type { WidgetProps } from '@rjsf/utils';
import * as React from 'react';
import {
  dataUrl,
  embargoed,
  observationText,
  unknownText
} from '../observation';
import { IObservationSummary, ObservationState } from '../tokens';

/** What the submit form hands its experiment field (rjsf's `formContext`). */
export interface IObservationContext {
  observation: ObservationState;
  trans: TranslationBundle;
}

/**
 * The experiment field: the form's own text input, and under it what the
 * archive's catalogue says of the code typed.
 */
export function ExperimentWidget(props: WidgetProps): JSX.Element {
  const { TextWidget } = props.registry.widgets;
  const context = props.registry.formContext as IObservationContext | undefined;
  return (
    <>
      <TextWidget {...props} />
      {context && (
        <ObservationLine
          state={context.observation}
          trans={context.trans}
          onPick={code => props.onChange(code)}
        />
      )}
    </>
  );
}

/**
 * The observation, an unknown code with the close known ones (buttons that
 * fill the field), or a neutral note when the catalogue cannot answer. A
 * polite live region: a screen reader reads the new line after typing.
 */
export function ObservationLine(props: {
  state: ObservationState;
  trans: TranslationBundle;
  onPick: (code: string) => void;
}): JSX.Element {
  const { state } = props;
  return (
    <div
      className={`jp-evn-submit-observation jp-evn-submit-observation-${state.kind}`}
      aria-live="polite"
    >
      {lineContent(props)}
    </div>
  );
}

function lineContent(props: {
  state: ObservationState;
  trans: TranslationBundle;
  onPick: (code: string) => void;
}): React.ReactNode {
  const { state, trans } = props;
  switch (state.kind) {
    case 'found':
      return observationText(state.observation, trans);
    case 'loading':
      return trans.__(
        'Looking up %1 in the archive’s catalogue…',
        state.experiment
      );
    case 'unavailable':
      return trans.__(
        'The archive’s catalogue cannot be asked just now; the code is checked again when you submit.'
      );
    case 'unknown':
      return state.suggestions.length === 0 ? (
        unknownText(state.experiment, [], trans)
      ) : (
        <Suggestions {...props} state={state} />
      );
    default:
      return null;
  }
}

function Suggestions(props: {
  state: Extract<ObservationState, { kind: 'unknown' }>;
  trans: TranslationBundle;
  onPick: (code: string) => void;
}): JSX.Element {
  const { state, trans } = props;
  return (
    <>
      {trans.__('Unknown experiment %1 — did you mean', state.experiment)}{' '}
      {state.suggestions.map((code, i) => (
        <React.Fragment key={code}>
          {i > 0 && ', '}
          <button
            type="button"
            className="jp-evn-submit-link-button jp-evn-submit-suggestion"
            aria-label={trans.__('Use experiment %1', code)}
            onClick={() => props.onPick(code)}
          >
            {code}
          </button>
        </React.Fragment>
      ))}
      ?
    </>
  );
}

/**
 * A notebook's observation in a list: its targets, the link to the data in
 * the EVN archive, and until when it stays private.
 */
export function ObservationMeta(props: {
  observation: IObservationSummary | null | undefined;
  titleId: string;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { observation, trans } = props;
  if (!observation) {
    return null;
  }
  const targets = (observation.targets ?? []).map(t => t.name).join(', ');
  const url = dataUrl(observation.products);
  const hidden = embargoed(observation.public_from);
  return (
    <div className="jp-evn-submit-meta jp-evn-submit-observation-meta">
      {targets && (
        <span className="jp-evn-submit-targets">
          {trans.__('Targets: %1', targets)}
        </span>
      )}
      {hidden && (
        <span className="jp-evn-submit-embargo">
          {trans.__('private until %1', observation.public_from!.slice(0, 10))}
        </span>
      )}
      {url && (
        <a
          className="jp-evn-submit-data"
          href={url}
          target="_blank"
          rel="noopener noreferrer"
          aria-describedby={props.titleId}
        >
          {trans.__('Data')}
        </a>
      )}
    </div>
  );
}
