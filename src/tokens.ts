import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

/**
 * Types of the server extension's answers (docs/architecture.md) and the
 * interface of the panel's model.
 */

export interface IUser {
  username: string;
  name: string;
  email: string;
}

export interface IStatus {
  logged_in: boolean;
  user: IUser | null;
  /** Why the researcher was logged out (e.g. the login expired), else null. */
  message?: string | null;
  /** False when the operator has not configured the issuer and the service. */
  configured?: boolean;
  issuer?: string;
  service?: { url: string; reachable: boolean };
}

export interface IDeviceStart {
  device_id: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval: number;
}

export interface IDevicePoll {
  status: 'pending' | 'done' | 'expired' | 'denied';
  user?: IUser;
}

export type OutputPolicy = 'keep' | 'strip' | 'strip-large';

export interface IPreview {
  size: number;
  original_size: number;
  stripped_outputs: number;
  limit: number;
}

export interface IAuthor {
  name: string;
  orcid?: string;
  affiliation?: string;
}

/**
 * What the researcher types in the submit form (one JSON schema: schema.ts).
 */
export interface ISubmissionForm {
  experiment: string;
  title: string;
  description?: string;
  authors: IAuthor[];
  license: string;
  keywords?: string[];
  output_policy: OutputPolicy;
  output_budget_mb?: number;
  message?: string;
}

export interface ISubmitRequest {
  path: string;
  experiment: string;
  metadata: {
    title: string;
    description: string;
    authors: IAuthor[];
    license: string;
    keywords: string[];
  };
  output_policy: OutputPolicy;
  output_budget: number;
  message: string;
  idempotency_key: string;
}

export interface ISubmitResult {
  permalink: string;
  commit: string;
  version: number;
  folder: string;
  submitter: IUser;
  experiment: string;
  name: string;
  created: boolean;
  /** What the archive's catalogue knows of the experiment (docs/catalogue.md). */
  observation?: IObservation | null;
  /** When the notebook becomes public (ISO); `null`: it is public now. */
  public_from?: string | null;
}

/** A source the experiment observed; degrees, ICRS. */
export interface ITarget {
  name: string;
  ra: number | null;
  dec: number | null;
}

/** A data product of the observation in the EVN archive. */
export interface IProduct {
  did: string;
  access_url: string;
}

/**
 * What the archive's catalogue knows of an experiment (`GET observation`):
 * `catalogued: false` when the catalogue is off or the code is out of its
 * scope (then nothing is shown).
 */
export type IObservation =
  | {
      experiment: string;
      catalogued: true;
      targets: ITarget[];
      start: string;
      end: string;
      /** Whether the data are public now. */
      public: boolean;
      public_from: string;
      products: IProduct[];
    }
  | { experiment: string; catalogued: false };

/** The observation as the index stores it with a notebook's summary. */
export interface IObservationSummary {
  targets: ITarget[];
  /** When the experiment's data (and its notebooks) become public; `null`: public. */
  public_from: string | null;
  products: IProduct[];
}

/**
 * The line under the experiment field: nothing to say (no code, a malformed
 * one, or the catalogue does not cover it), asking, the observation, an
 * unknown code with close known ones, or the catalogue cannot answer.
 */
export type ObservationState =
  | { kind: 'none' }
  | { kind: 'loading'; experiment: string }
  | { kind: 'found'; experiment: string; observation: IObservation }
  | {
      kind: 'unknown';
      experiment: string;
      message: string;
      suggestions: string[];
    }
  | { kind: 'unavailable'; experiment: string; message: string };

export interface INotebookSummary {
  experiment: string;
  owner: string;
  name: string;
  folder: string;
  title: string;
  description: string;
  authors: IAuthor[];
  license: string;
  keywords: string[];
  version: number;
  commit: string;
  updated: string;
  permalink: string;
  /** A notebook of the current portal's layout (owner `_legacy`). */
  legacy?: boolean;
  /** Its experiment's observation, from the archive's catalogue; `null`: none known. */
  observation?: IObservationSummary | null;
}

/**
 * Which page of a list: `limit` items (1–100; the server's default when
 * absent) from `cursor`, the `next_cursor` of the previous page.
 */
export interface IPageRequest {
  limit?: number;
  cursor?: string | null;
}

/** What every list answers besides its items: where the next page starts. */
export interface IPageAnswer {
  /** `null` on the last page. */
  next_cursor: string | null;
}

/** The archive's search (`GET search`); empty values are not sent. */
export interface ISearchParams extends IPageRequest {
  q?: string;
  experiment?: string;
  author?: string;
  orcid?: string;
  keyword?: string;
  license?: string;
  /** `YYYY-MM-DD` or an ISO 8601 date-time. */
  since?: string;
  until?: string;
  sort?: 'relevance' | 'updated' | 'title';
  /** A source name: notebooks whose experiment observed a target named like it. */
  target?: string;
  /** A cone, in degrees (ICRS): all three or none. */
  ra?: string;
  dec?: string;
  radius?: string;
}

/** A notebook found by a search, with why it matched. */
export interface ISearchHit extends INotebookSummary {
  /** HTML: the matched words in `<mark>…</mark>`, everything else escaped. */
  snippet: string;
}

/** The next page of a list shown in the panel. */
export interface IMoreState {
  /** Where the next page starts; `null` when everything is shown. */
  cursor: string | null;
  /** The next page is being fetched. */
  loading: boolean;
}

export interface IVersion {
  version: number;
  commit: string;
  date: string;
  message: string;
  permalink: string;
}

/** The Archive section's search. */
export interface IArchiveSearch {
  /** The search last sent (empty values left out); `null` before the first. */
  query: ISearchParams | null;
  /** The hits so far; `null` while the first page loads or after it failed. */
  hits: ISearchHit[] | null;
  /** Why the first or a further page failed, else ''. */
  error: string;
  more: IMoreState;
}

/**
 * What the submit form can guess from the notebook itself (src/prefill.ts):
 * the experiment code and the title.
 */
export interface IPrefill {
  experiment: string;
  title: string;
}

/**
 * The researcher's defaults, from the settings (schema/plugin.json).
 */
export interface IDefaults {
  license: string;
  authors: IAuthor[];
  affiliation: string;
  orcid: string;
  outputPolicy: OutputPolicy;
  outputBudgetMb: number;
}

export type LoginState =
  | { kind: 'idle' }
  | { kind: 'popup' }
  | { kind: 'blocked' }
  | { kind: 'device'; device: IDeviceStart }
  | { kind: 'error'; message: string };

export type SubmitState =
  | { kind: 'idle' }
  | { kind: 'saving' }
  | { kind: 'uploading' }
  | { kind: 'done'; result: ISubmitResult }
  | { kind: 'error'; message: string; details: string };

/**
 * The state behind the EVN archive panel.
 */
export interface IEvnArchiveModel {
  readonly status: IStatus | null;
  readonly statusError: string;
  readonly login: LoginState;
  readonly notebookPath: string | null;
  readonly form: ISubmissionForm;
  readonly preview: IPreview | null;
  readonly previewError: string;
  readonly submit: SubmitState;
  /** What the archive's catalogue says of the experiment code in the form. */
  readonly observation: ObservationState;
  /** The submissions shown so far (`null` while the first page loads). */
  readonly submissions: INotebookSummary[] | null;
  /** Why the first or a further page of the submissions failed, else ''. */
  readonly submissionsError: string;
  readonly submissionsMore: IMoreState;
  /** The Archive section's search: what was asked, and its hits so far. */
  readonly archive: IArchiveSearch;
  /** Emitted on any change of the state above. */
  readonly changed: ISignal<IEvnArchiveModel, void>;
  /** Emitted when a submission succeeded. */
  readonly submitted: ISignal<IEvnArchiveModel, ISubmitResult>;

  refreshStatus(): Promise<void>;
  /** Must be called synchronously from a click: it opens the popup first. */
  startLogin(): Promise<void>;
  startDeviceLogin(): Promise<void>;
  cancelLogin(): void;
  logout(): Promise<void>;
  setNotebookPath(path: string | null): void;
  setForm(form: ISubmissionForm): void;
  setDefaults(defaults: IDefaults): void;
  refreshPreview(): Promise<void>;
  /**
   * Submit the current notebook; `beforeSubmit` saves it first.
   */
  submitNotebook(): Promise<ISubmitResult | null>;
  /** The first page of the submissions (again). */
  loadSubmissions(): Promise<void>;
  /** Add the next page of the submissions. */
  loadMoreSubmissions(): Promise<void>;
  /** The first page of the archive's search for `query` (again). */
  search(query: ISearchParams): Promise<void>;
  /** Add the next page of the search. */
  searchMore(): Promise<void>;
  /** Search the notebooks of one experiment (nothing else asked). */
  browse(experiment: string): Promise<void>;
  /** A page of the notebook's versions, newest first (`cursor`: where it starts). */
  versions(
    item: INotebookSummary,
    cursor?: string | null
  ): Promise<IPageAnswer & { versions: IVersion[] }>;
  openCopy(item: INotebookSummary, version?: number): Promise<string>;
}

export const IEvnArchiveModel = new Token<IEvnArchiveModel>(
  'jupyterlab-evn-submit:IEvnArchiveModel',
  'The state of the EVN archive panel: login, submit form, submissions, archive.'
);
