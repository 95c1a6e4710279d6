import { Requester } from './request';
import {
  IDevicePoll,
  IDeviceStart,
  INotebookSummary,
  IPreview,
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

  submissions(): Promise<{ submissions: INotebookSummary[] }> {
    return this.request('submissions');
  }

  notebooks(
    experiment: string
  ): Promise<{ experiment: string; notebooks: INotebookSummary[] }> {
    return this.request(
      `experiments/${encodeURIComponent(experiment)}/notebooks`
    );
  }

  versions(
    experiment: string,
    owner: string,
    name: string
  ): Promise<{ versions: IVersion[] }> {
    const parts = [experiment, 'notebooks', owner, name, 'versions'];
    return this.request(
      `experiments/${parts.map(encodeURIComponent).join('/')}`
    );
  }

  openCopy(body: {
    experiment: string;
    owner: string;
    name: string;
    version?: number;
  }): Promise<{ path: string }> {
    return this.post('open-copy', body);
  }

  private post<T>(endPoint: string, body: unknown): Promise<T> {
    return this.request<T>(endPoint, {
      method: 'POST',
      body: JSON.stringify(body)
    });
  }
}
