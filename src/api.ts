import { Requester } from './request';
import {
  IDevicePoll,
  IDeviceStart,
  INotebookSummary,
  IObservation,
  IPageAnswer,
  IPageRequest,
  IPreview,
  ISearchHit,
  ISearchParams,
  IStatus,
  ISubmitRequest,
  ISubmitResult,
  IVersion,
  OutputPolicy
} from './tokens';

/**
 * Typed functions, one per route of the server extension
 * (docs/architecture.md, "Server extension routes").
 */
export class EvnApi {
  constructor(private readonly request: Requester) {}

  status(): Promise<IStatus> {
    return this.request<IStatus>('status');
  }

  login(): Promise<{ authorize_url: string }> {
    return this.post('login', {});
  }

  deviceStart(): Promise<IDeviceStart> {
    return this.post('device', {});
  }

  devicePoll(deviceId: string): Promise<IDevicePoll> {
    return this.post('device/poll', { device_id: deviceId });
  }

  logout(): Promise<{ logged_in: false }> {
    return this.post('logout', {});
  }

  preview(
    path: string,
    policy: OutputPolicy,
    budget: number
  ): Promise<IPreview> {
    const query = new URLSearchParams({
      path,
      output_policy: policy,
      output_budget: String(budget)
    });
    return this.request<IPreview>(`preview?${query.toString()}`);
  }

  submit(body: ISubmitRequest): Promise<ISubmitResult> {
    return this.post('submit', body);
  }

  submissions(
    page: IPageRequest = {}
  ): Promise<IPageAnswer & { submissions: INotebookSummary[] }> {
    return this.request(`submissions${queryString(page)}`);
  }

  notebooks(
    experiment: string,
    page: IPageRequest = {}
  ): Promise<
    IPageAnswer & { experiment: string; notebooks: INotebookSummary[] }
  > {
    return this.request(
      `experiments/${encodeURIComponent(experiment)}/notebooks${queryString(page)}`
    );
  }

  versions(
    experiment: string,
    owner: string,
    name: string,
    page: IPageRequest = {}
  ): Promise<IPageAnswer & { versions: IVersion[] }> {
    const parts = [experiment, 'notebooks', owner, name, 'versions'];
    return this.request(
      `experiments/${parts.map(encodeURIComponent).join('/')}${queryString(page)}`
    );
  }

  /** The archive's search; public (works before the EVN login). */
  search(
    params: ISearchParams
  ): Promise<IPageAnswer & { notebooks: ISearchHit[] }> {
    return this.request(`search${queryString(params)}`);
  }

  /**
   * What the archive's catalogue knows of an experiment (public); 404 with
   * `suggestions` when it does not know the code, 503 when it cannot answer.
   */
  observation(experiment: string): Promise<IObservation> {
    return this.request(`observation${queryString({ experiment })}`);
  }

  openCopy(body: {
    experiment: string;
    owner: string;
    name: string;
    version?: number;
  }): Promise<{ path: string }> {
    return this.post('open-copy', body);
  }

  /**
   * nbdime's diff of two archived versions, as nbdime's own `/api/diff`
   * answers it; without `remote` the latest, without `base` the one before.
   */
  diff(
    experiment: string,
    owner: string,
    name: string,
    versions: { base?: number; remote?: number } = {}
  ): Promise<{
    base: import('@jupyterlab/nbformat').INotebookContent;
    diff: import('nbdime/lib/diff/diffentries').IDiffEntry[];
    base_version: number;
    remote_version: number;
  }> {
    return this.request(
      `diff${queryString({ experiment, owner, name, ...versions })}`
    );
  }

  private post<T>(endPoint: string, body: unknown): Promise<T> {
    return this.request<T>(endPoint, {
      method: 'POST',
      body: JSON.stringify(body)
    });
  }
}

/** `?name=value&…` of the given values; empty ones are left out. */
function queryString(params: object): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') {
      search.set(name, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
