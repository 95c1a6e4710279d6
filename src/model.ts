import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import { UUID } from '@lumino/coreutils';
import { ISignal, Signal } from '@lumino/signaling';
import { EvnApi } from './api';
import { ObservationLookup } from './observation';
import { messageOf, PagedList } from './paging';
import { INotebookLike, prefillFor } from './prefill';
import { ResponseError } from './request';
import { asciiUpper, DEFAULT_LICENSE } from './rules';
import { ArchiveSearch } from './search';
import {
  IArchiveSearch,
  IDefaults,
  IEvnArchiveModel,
  IMoreState,
  INotebookSummary,
  IPageAnswer,
  IPrefill,
  IPreview,
  ISearchParams,
  IStatus,
  ISubmissionForm,
  ISubmitRequest,
  ISubmitResult,
  IVersion,
  LoginState,
  ObservationState,
  SubmitState
} from './tokens';

/** The message the server extension's callback page posts to its opener. */
export interface ILoginMessage {
  source: 'jupyterlab-evn-submit';
  type: 'login';
  ok: boolean;
  message?: string;
}

export namespace EvnArchiveModel {
  export interface IOptions {
    api: EvnApi;
    /** Save the notebook at `path` if it is open (never submit it stale). */
    saveNotebook: (path: string) => Promise<void>;
    /**
     * The notebook at `path` (metadata and cells), for the guesses of the
     * experiment code and the title (src/prefill.ts); none when absent.
     */
    readNotebook?: (path: string) => Promise<INotebookLike | null>;
    /** `window.open`; tests pass a fake. */
    openWindow?: (url: string, name: string, features: string) => Window | null;
    /** Where the callback page's message arrives (`window`). */
    messageTarget?: Pick<Window, 'addEventListener' | 'removeEventListener'>;
    /** The Jupyter origin: the only origin a login message is accepted from. */
    origin?: string;
    defaults?: Partial<IDefaults>;
    /** Delay before the size preview is refreshed after a change, in ms. */
    previewDelay?: number;
    /** Delay before a typed experiment code is looked up, in ms. */
    observationDelay?: number;
    translator?: ITranslator;
  }
}

export const DEFAULTS: IDefaults = {
  license: DEFAULT_LICENSE,
  authors: [],
  affiliation: '',
  orcid: '',
  outputPolicy: 'strip-large',
  outputBudgetMb: 5
};

const MB = 1024 * 1024;

/**
 * The state of the EVN archive panel. It outlives the panel's React views,
 * so what the researcher typed survives a login or a closed sidebar.
 */
export class EvnArchiveModel implements IEvnArchiveModel {
  constructor(options: EvnArchiveModel.IOptions) {
    this._api = options.api;
    this._search = new ArchiveSearch(this._api, () => this._emit());
    this._observation = new ObservationLookup(
      this._api,
      () => this._emit(),
      options.observationDelay ?? 300
    );
    this._saveNotebook = options.saveNotebook;
    this._readNotebook = options.readNotebook ?? (async () => null);
    this._openWindow =
      options.openWindow ??
      ((url, name, features) => window.open(url, name, features));
    this._messageTarget = options.messageTarget ?? window;
    this._origin = options.origin ?? window.location.origin;
    this._previewDelay = options.previewDelay ?? 300;
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyterlab_evn_submit'
    );
    this._defaults = { ...DEFAULTS, ...options.defaults };
    this._form = this._emptyForm();
    this._messageTarget.addEventListener('message', this._onMessage);
  }

  get changed(): ISignal<IEvnArchiveModel, void> {
    return this._changed;
  }
  get submitted(): ISignal<IEvnArchiveModel, ISubmitResult> {
    return this._submitted;
  }
  get status(): IStatus | null {
    return this._status;
  }
  get statusError(): string {
    return this._statusError;
  }
  get login(): LoginState {
    return this._login;
  }
  get notebookPath(): string | null {
    return this._notebookPath;
  }
  get form(): ISubmissionForm {
    return this._form;
  }
  get preview(): IPreview | null {
    return this._preview;
  }
  get previewError(): string {
    return this._previewError;
  }
  get submit(): SubmitState {
    return this._submit;
  }
  get observation(): ObservationState {
    return this._observation.state;
  }
  get submissions(): INotebookSummary[] | null {
    return this._submissions.items;
  }
  get submissionsError(): string {
    return this._submissions.error;
  }
  get submissionsMore(): IMoreState {
    return this._submissions.more;
  }
  get archive(): IArchiveSearch {
    return this._search.state;
  }
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.cancelLogin();
    clearTimeout(this._previewTimer);
    this._observation.dispose();
    this._messageTarget.removeEventListener('message', this._onMessage);
    Signal.clearData(this);
  }

  async refreshStatus(): Promise<void> {
    try {
      this._status = await this._api.status();
      this._statusError = '';
      this._prefillAuthors();
      if (this._status.logged_in && this._submissions.items === null) {
        void this.loadSubmissions();
      }
    } catch (error) {
      this._status = null;
      this._statusError = messageOf(error);
    }
    this._emit();
  }

  startLogin(): Promise<void> {
    this.cancelLogin();
    // Open the popup before anything asynchronous: browsers only allow
    // popups in the call stack of the researcher's click.
    let popup: Window | null = null;
    try {
      popup = this._openWindow(
        '',
        'evn-submit-login',
        'popup,width=520,height=700'
      );
    } catch (error) {
      popup = null;
    }
    if (!popup) {
      this._setLogin({ kind: 'blocked' });
      return Promise.resolve();
    }
    this._popup = popup;
    this._setLogin({ kind: 'popup' });
    return this._navigatePopup(popup);
  }

  async startDeviceLogin(): Promise<void> {
    this.cancelLogin();
    try {
      const device = await this._api.deviceStart();
      this._setLogin({ kind: 'device', device });
      this._scheduleDevicePoll(device.device_id, device.interval);
    } catch (error) {
      this._setLogin({ kind: 'error', message: messageOf(error) });
    }
  }

  cancelLogin(): void {
    clearTimeout(this._deviceTimer);
    clearInterval(this._popupWatch);
    if (this._popup && !this._popup.closed) {
      this._popup.close();
    }
    this._popup = null;
    if (this._login.kind === 'popup' || this._login.kind === 'device') {
      this._setLogin({ kind: 'idle' });
    }
  }

  async logout(): Promise<void> {
    this.cancelLogin();
    try {
      await this._api.logout();
      this._setLogin({ kind: 'idle' });
      this._submissions.clear();
    } catch (error) {
      this._setLogin({ kind: 'error', message: messageOf(error) });
    }
    await this.refreshStatus();
  }

  setNotebookPath(path: string | null): void {
    if (path === this._notebookPath) {
      return;
    }
    this._notebookPath = path;
    this._preview = null;
    this._previewError = '';
    if (this._submit.kind === 'done' || this._submit.kind === 'error') {
      this._submit = { kind: 'idle' };
    }
    this._emit();
    this._schedulePreview();
    if (path) {
      void this._prefill(path);
    }
  }

  setForm(form: ISubmissionForm): void {
    const old = this._form;
    this._form = form;
    this._emit();
    if (old.experiment !== form.experiment) {
      this._observation.lookup(form.experiment ?? '');
    }
    if (
      old.output_policy !== form.output_policy ||
      old.output_budget_mb !== form.output_budget_mb
    ) {
      this._schedulePreview();
    }
  }

  setDefaults(defaults: IDefaults): void {
    const old = this._defaults;
    this._defaults = { ...defaults };
    // Follow changed defaults in fields the researcher has left at the old one.
    const form = { ...this._form };
    if (form.license === old.license) {
      form.license = defaults.license;
    }
    if (form.output_policy === old.outputPolicy) {
      form.output_policy = defaults.outputPolicy;
    }
    if (form.output_budget_mb === old.outputBudgetMb) {
      form.output_budget_mb = defaults.outputBudgetMb;
    }
    this._form = form;
    this._prefillAuthors();
    this._emit();
  }

  async refreshPreview(): Promise<void> {
    clearTimeout(this._previewTimer);
    const path = this._notebookPath;
    if (!path) {
      return;
    }
    const policy = this._form.output_policy;
    const budget = Math.round((this._form.output_budget_mb ?? 0) * MB);
    try {
      const preview = await this._api.preview(path, policy, budget);
      if (path === this._notebookPath) {
        this._preview = preview;
        this._previewError = '';
      }
    } catch (error) {
      if (path === this._notebookPath) {
        this._preview = null;
        this._previewError = messageOf(error);
      }
    }
    this._emit();
  }

  async submitNotebook(): Promise<ISubmitResult | null> {
    const path = this._notebookPath;
    if (
      !path ||
      this._submit.kind === 'saving' ||
      this._submit.kind === 'uploading'
    ) {
      return null;
    }
    // The catalogue said it does not know this code: say so, send nothing.
    const refusal = this._observation.refusal(
      this._form.experiment,
      this._trans
    );
    if (refusal) {
      this._setSubmit({ kind: 'error', message: refusal, details: '' });
      return null;
    }
    const body = this._request(path);
    const fingerprint = JSON.stringify(body);
    // A retry of a request that may have reached the service reuses its key,
    // so the service answers with the first result instead of a second commit.
    const key =
      this._retry && this._retry.fingerprint === fingerprint
        ? this._retry.key
        : UUID.uuid4();
    this._setSubmit({ kind: 'saving' });
    try {
      await this._saveNotebook(path);
    } catch (error) {
      this._setSubmit({
        kind: 'error',
        message: this._trans.__('Saving %1 failed: %2', path, messageOf(error)),
        details: String(error)
      });
      throw error;
    }
    this._setSubmit({ kind: 'uploading' });
    try {
      const result = await this._api.submit({ ...body, idempotency_key: key });
      this._retry = null;
      this._setSubmit({ kind: 'done', result });
      this._submitted.emit(result);
      void this.loadSubmissions();
      return result;
    } catch (error) {
      this._observation.unknownFromError(body.experiment, error);
      const status = error instanceof ResponseError ? error.status : 0;
      this._retry = status === 0 || status >= 500 ? { fingerprint, key } : null;
      this._setSubmit({
        kind: 'error',
        message: messageOf(error),
        details: error instanceof ResponseError ? error.details : String(error)
      });
      throw error;
    }
  }

  loadSubmissions(): Promise<void> {
    return this._submissions.load(
      async cursor => {
        const answer = await this._api.submissions({ cursor });
        return { items: answer.submissions, next: answer.next_cursor };
      },
      error => ({ items: [], error: messageOf(error) })
    );
  }

  loadMoreSubmissions(): Promise<void> {
    return this._submissions.loadMore();
  }

  search(query: ISearchParams): Promise<void> {
    return this._search.search(query);
  }

  searchMore(): Promise<void> {
    return this._search.more();
  }

  browse(experiment: string): Promise<void> {
    return this.search({ experiment });
  }

  versions(
    item: INotebookSummary,
    cursor: string | null = null
  ): Promise<IPageAnswer & { versions: IVersion[] }> {
    return this._api.versions(item.experiment, item.owner, item.name, {
      cursor
    });
  }

  async openCopy(item: INotebookSummary, version?: number): Promise<string> {
    const answer = await this._api.openCopy({
      experiment: item.experiment,
      owner: item.owner,
      name: item.name,
      ...(version !== undefined ? { version } : {})
    });
    return answer.path;
  }

  private _request(path: string): Omit<ISubmitRequest, 'idempotency_key'> {
    const form = this._form;
    return {
      path,
      experiment: asciiUpper(form.experiment.trim()),
      metadata: {
        title: form.title.trim(),
        description: (form.description ?? '').trim(),
        authors: form.authors
          .filter(a => a && a.name && a.name.trim())
          .map(a => ({
            name: a.name.trim(),
            ...(a.orcid ? { orcid: a.orcid.trim() } : {}),
            ...(a.affiliation ? { affiliation: a.affiliation.trim() } : {})
          })),
        license: form.license,
        keywords: (form.keywords ?? []).map(k => k.trim()).filter(k => k)
      },
      output_policy: form.output_policy,
      output_budget: Math.round((form.output_budget_mb ?? 0) * MB),
      message: (form.message ?? '').trim()
    };
  }

  /**
   * Fill the experiment code and the title guessed from the notebook into
   * fields that are blank or still hold the previous notebook's guess.
   */
  private async _prefill(path: string): Promise<void> {
    let notebook: INotebookLike | null = null;
    try {
      notebook = await this._readNotebook(path);
    } catch (error) {
      notebook = null; // the file name still gives a guess
    }
    if (path !== this._notebookPath) {
      return;
    }
    const guess = prefillFor(path, notebook);
    const old = this._prefilled;
    const form = { ...this._form };
    const fields: Array<keyof IPrefill> = ['experiment', 'title'];
    for (const field of fields) {
      const value = (form[field] ?? '').trim();
      if (guess[field] && (!value || value === old[field])) {
        form[field] = guess[field];
      }
    }
    this._prefilled = guess;
    this._form = form;
    this._emit();
    this._observation.lookup(form.experiment ?? '');
  }

  private _emptyForm(): ISubmissionForm {
    return {
      experiment: '',
      title: '',
      description: '',
      authors: [],
      license: this._defaults.license,
      keywords: [],
      output_policy: this._defaults.outputPolicy,
      output_budget_mb: this._defaults.outputBudgetMb,
      message: ''
    };
  }

  /** Fill in the logged-in researcher (and the default co-authors) once. */
  private _prefillAuthors(): void {
    const user = this._status?.logged_in ? this._status.user : null;
    const authors = this._form.authors.filter(a => a && a.name);
    if (!user || authors.length > 0) {
      return;
    }
    const me = {
      name: user.name || user.username,
      ...(this._defaults.orcid ? { orcid: this._defaults.orcid } : {}),
      ...(this._defaults.affiliation
        ? { affiliation: this._defaults.affiliation }
        : {})
    };
    const others = this._defaults.authors.filter(a => a.name !== me.name);
    this._form = { ...this._form, authors: [me, ...others] };
  }

  private async _navigatePopup(popup: Window): Promise<void> {
    try {
      const { authorize_url } = await this._api.login();
      if (popup.closed) {
        this._setLogin({ kind: 'idle' });
        return;
      }
      popup.location.href = authorize_url;
    } catch (error) {
      popup.close();
      this._popup = null;
      this._setLogin({ kind: 'error', message: messageOf(error) });
      return;
    }
    // A popup closed by the researcher ends the attempt.
    this._popupWatch = setInterval(() => {
      if (popup.closed) {
        clearInterval(this._popupWatch);
        if (this._popup === popup) {
          this._popup = null;
          if (this._login.kind === 'popup') {
            this._setLogin({ kind: 'idle' });
            void this.refreshStatus();
          }
        }
      }
    }, 500);
  }

  private _onMessage = (event: MessageEvent): void => {
    // Only the login popup this model opened, showing the callback page of
    // this Jupyter server (the page's own origin), may end the login.
    if (
      !this._popup ||
      event.source !== this._popup ||
      event.origin !== this._origin
    ) {
      return;
    }
    const data = event.data as ILoginMessage;
    if (
      !data ||
      typeof data !== 'object' ||
      data.source !== 'jupyterlab-evn-submit' ||
      data.type !== 'login'
    ) {
      return;
    }
    clearInterval(this._popupWatch);
    this._popup = null;
    if (data.ok) {
      this._setLogin({ kind: 'idle' });
      void this.refreshStatus();
    } else {
      this._setLogin({
        kind: 'error',
        message: data.message || this._trans.__('The login did not succeed.')
      });
    }
  };

  private _scheduleDevicePoll(deviceId: string, interval: number): void {
    clearTimeout(this._deviceTimer);
    this._deviceTimer = setTimeout(
      async () => {
        if (this._login.kind !== 'device') {
          return;
        }
        try {
          const answer = await this._api.devicePoll(deviceId);
          if (this._login.kind !== 'device') {
            return;
          }
          switch (answer.status) {
            case 'pending':
              this._scheduleDevicePoll(deviceId, interval);
              break;
            case 'done':
              this._setLogin({ kind: 'idle' });
              await this.refreshStatus();
              break;
            case 'expired':
              this._setLogin({
                kind: 'error',
                message: this._trans.__('The code expired. Ask for a new one.')
              });
              break;
            case 'denied':
              this._setLogin({
                kind: 'error',
                message: this._trans.__('The login was denied.')
              });
              break;
          }
        } catch (error) {
          this._setLogin({ kind: 'error', message: messageOf(error) });
        }
      },
      Math.max(1, interval) * 1000
    );
  }

  private _schedulePreview(): void {
    clearTimeout(this._previewTimer);
    if (!this._notebookPath) {
      return;
    }
    this._previewTimer = setTimeout(() => {
      void this.refreshPreview();
    }, this._previewDelay);
  }

  private _setLogin(login: LoginState): void {
    this._login = login;
    this._emit();
  }

  private _setSubmit(submit: SubmitState): void {
    this._submit = submit;
    this._emit();
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _api: EvnApi;
  private _saveNotebook: (path: string) => Promise<void>;
  private _readNotebook: (path: string) => Promise<INotebookLike | null>;
  private _prefilled: IPrefill = { experiment: '', title: '' };
  private _openWindow: (
    url: string,
    name: string,
    features: string
  ) => Window | null;
  private _messageTarget: Pick<
    Window,
    'addEventListener' | 'removeEventListener'
  >;
  private _origin: string;
  private _previewDelay: number;
  private _trans: TranslationBundle;
  private _defaults: IDefaults;
  private _status: IStatus | null = null;
  private _statusError = '';
  private _login: LoginState = { kind: 'idle' };
  private _popup: Window | null = null;
  private _popupWatch: any = undefined;
  private _deviceTimer: any = undefined;
  private _previewTimer: any = undefined;
  private _notebookPath: string | null = null;
  private _form: ISubmissionForm;
  private _preview: IPreview | null = null;
  private _previewError = '';
  private _submit: SubmitState = { kind: 'idle' };
  private _retry: { fingerprint: string; key: string } | null = null;
  private _submissions = new PagedList<INotebookSummary>(() => this._emit());
  private _search: ArchiveSearch;
  private _observation: ObservationLookup;
  private _isDisposed = false;
  private _changed = new Signal<IEvnArchiveModel, void>(this);
  private _submitted = new Signal<IEvnArchiveModel, ISubmitResult>(this);
}

export { messageOf };
