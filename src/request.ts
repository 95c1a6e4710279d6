import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * The one place that talks HTTP to the server extension.
 */

/**
 * An error answered by the server extension: its status and its `message`.
 */
export class ResponseError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: string = ''
  ) {
    super(message);
    this.name = 'ResponseError';
  }
}

/**
 * A function that calls one route of the server extension.
 *
 * The API layer takes one of these, so tests can pass a fake.
 */
export type Requester = <T>(endPoint: string, init?: RequestInit) => Promise<T>;

/**
 * Call a route under `{base_url}evn-submit/` and parse its JSON answer.
 *
 * `ServerConnection.makeRequest` adds the XSRF token to every POST.
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'evn-submit', endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ResponseError(
      0,
      'The Jupyter server cannot be reached.',
      String(error)
    );
  }
  const text = await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch (error) {
      data = null;
    }
  }
  if (!response.ok) {
    const message =
      (data && typeof data.message === 'string' && data.message) ||
      `${response.status} ${response.statusText}`.trim();
    throw new ResponseError(response.status, message, text);
  }
  return data as T;
}
