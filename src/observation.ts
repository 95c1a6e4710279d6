import { TranslationBundle } from '@jupyterlab/translation';
import { EvnApi } from './api';
import { messageOf } from './paging';
import { ResponseError } from './request';
import { asciiUpper, experimentCode } from './rules';
import { IObservation, ObservationState } from './tokens';

/**
 * What the archive's catalogue says of the experiment code in the submit
 * form (docs/catalogue.md, "Extension and panel"): asked 300 ms after the
 * last keystroke, and only the answer for the code typed last is kept (a
 * slow answer for an earlier code never replaces it).
 */
export class ObservationLookup {
  /** `changed` is called after every change of the state. */
  constructor(
    private readonly _api: EvnApi,
    private readonly _changed: () => void,
    private readonly _delay = 300
  ) {}

  get state(): ObservationState {
    return this._state;
  }

  /** The code was typed (or filled in): look it up after the delay. */
  lookup(raw: string): void {
    const code = canonical(raw);
    if (code === this._code) {
      return;
    }
    this._code = code;
    this._ticket++; // answers to earlier codes are dropped from here on
    clearTimeout(this._timer);
    if (code === null) {
      this._set({ kind: 'none' });
      return;
    }
    this._set({ kind: 'loading', experiment: code });
    const ticket = this._ticket;
    this._timer = setTimeout(() => void this._ask(code, ticket), this._delay);
  }

  /**
   * Why `raw` must not be submitted, when the catalogue said it does not
   * know it; '' otherwise (unknown yet, or not checked: the service decides).
   */
  refusal(raw: string, trans: TranslationBundle): string {
    const state = this._state;
    if (state.kind !== 'unknown' || state.experiment !== canonical(raw)) {
      return '';
    }
    return unknownText(state.experiment, state.suggestions, trans);
  }

  /** The service refused a submission of `raw` as unknown: show it here. */
  unknownFromError(raw: string, error: unknown): void {
    const code = canonical(raw);
    const unknown = code !== null && unknownOf(code, error);
    if (unknown) {
      clearTimeout(this._timer);
      this._code = code;
      this._ticket++;
      this._set(unknown);
    }
  }

  dispose(): void {
    clearTimeout(this._timer);
    this._ticket++;
  }

  private async _ask(code: string, ticket: number): Promise<void> {
    let state: ObservationState;
    try {
      const observation = await this._api.observation(code);
      state = { kind: 'found', experiment: code, observation };
    } catch (error) {
      state = unknownOf(code, error) || {
        kind: 'unavailable',
        experiment: code,
        message: messageOf(error)
      };
    }
    if (ticket === this._ticket) {
      this._set(state);
    }
  }

  private _set(state: ObservationState): void {
    this._state = state;
    this._changed();
  }

  private _state: ObservationState = { kind: 'none' };
  private _code: string | null = null;
  private _ticket = 0;
  private _timer: any = undefined;
}

/** The code as the archive spells it, or `null` when it is not one. */
function canonical(raw: string): string | null {
  const text = asciiUpper((raw ?? '').trim());
  if (!text) {
    return null;
  }
  try {
    return experimentCode(text);
  } catch (error) {
    return null; // the form's own check says what is wrong
  }
}

/** A 404 `UnknownExperiment` answer, read from the error's body. */
function unknownOf(code: string, error: unknown): ObservationState | null {
  if (!(error instanceof ResponseError) || error.status !== 404) {
    return null;
  }
  let body: any = null;
  try {
    body = JSON.parse(error.details);
  } catch (e) {
    body = null;
  }
  const suggestions = body?.suggestions;
  if (body?.error !== 'UnknownExperiment' && !Array.isArray(suggestions)) {
    return null;
  }
  return {
    kind: 'unknown',
    experiment: code,
    message: error.message,
    suggestions: Array.isArray(suggestions)
      ? suggestions.filter((c: unknown) => typeof c === 'string').slice(0, 3)
      : []
  };
}

/** "Unknown experiment EG078C — did you mean EG078B, EG087C?" */
export function unknownText(
  code: string,
  suggestions: string[],
  trans: TranslationBundle
): string {
  return suggestions.length > 0
    ? trans.__(
        'Unknown experiment %1 — did you mean %2?',
        code,
        suggestions.join(', ')
      )
    : trans.__(
        'Unknown experiment %1: the EVN archive’s catalogue does not know it.',
        code
      );
}

/** `2019-03-02`, or `2019-03-02 – 2019-03-04` for a longer observation. */
export function observedDates(start: string, end: string): string {
  const first = (start ?? '').slice(0, 10);
  const last = (end ?? '').slice(0, 10);
  return last && last !== first ? `${first} – ${last}` : first;
}

/**
 * "Observed DATE · targets T1, T2 · public", or "… · proprietary until DATE
 * (your notebook stays private until then)".
 */
export function observationText(
  observation: IObservation,
  trans: TranslationBundle
): string {
  if (!observation.catalogued) {
    return '';
  }
  const when = observedDates(observation.start, observation.end);
  const targets = observation.targets.map(t => t.name).join(', ');
  const parts = [trans.__('Observed %1', when)];
  if (targets) {
    parts.push(trans.__('targets %1', targets));
  }
  parts.push(
    observation.public
      ? trans.__('public')
      : trans.__(
          'proprietary until %1 (your notebook stays private until then)',
          observation.public_from.slice(0, 10)
        )
  );
  return parts.join(' · ');
}

/**
 * The first data product's URL when it is a web address (never a
 * `javascript:` or other scheme from a catalogue entry), else ''.
 */
export function dataUrl(
  products: ReadonlyArray<{ access_url: string }> | undefined
): string {
  const url = products?.[0]?.access_url ?? '';
  return /^https?:\/\//i.test(url) ? url : '';
}

/** Whether `publicFrom` (ISO) is still ahead of `now`. */
export function embargoed(
  publicFrom: string | null | undefined,
  now: number = Date.now()
): boolean {
  if (!publicFrom) {
    return false;
  }
  const when = Date.parse(publicFrom);
  return Number.isFinite(when) && when > now;
}
