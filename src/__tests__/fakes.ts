import { EvnApi } from '../api';
import { ResponseError } from '../request';

export interface ICall {
  endPoint: string;
  method: string;
  body: any;
}

/**
 * A fake of the server extension's routes: answers are queued per route
 * ("POST submit", "GET status", …); every call is recorded.
 */
export class FakeServer {
  calls: ICall[] = [];
  answers: Record<string, Array<unknown | ResponseError>> = {};

  answer(route: string, ...values: Array<unknown | ResponseError>): void {
    this.answers[route] = [...(this.answers[route] ?? []), ...values];
  }

  readonly request = async <T>(
    endPoint: string,
    init: RequestInit = {}
  ): Promise<T> => {
    const method = init.method ?? 'GET';
    const body = init.body ? JSON.parse(init.body as string) : undefined;
    this.calls.push({ endPoint, method, body });
    const route = `${method} ${endPoint.split('?')[0]}`;
    const queue = this.answers[route];
    if (!queue || queue.length === 0) {
      throw new ResponseError(404, `no fake answer for ${route}`);
    }
    const value = queue.length > 1 ? queue.shift() : queue[0];
    if (value instanceof ResponseError) {
      throw value;
    }
    return value as T;
  };

  api(): EvnApi {
    return new EvnApi(this.request);
  }

  callsTo(route: string): ICall[] {
    return this.calls.filter(
      c => `${c.method} ${c.endPoint.split('?')[0]}` === route
    );
  }
}

export const DEMO = {
  username: 'demo',
  name: 'Demo Researcher',
  email: 'demo@evn-archive.test'
};

export const LOGGED_IN = {
  logged_in: true,
  user: DEMO,
  issuer: 'http://127.0.0.1:8080/realms/evn',
  service: { url: 'http://127.0.0.1:9000', reachable: true }
};

export const LOGGED_OUT = {
  logged_in: false,
  user: null,
  issuer: 'http://127.0.0.1:8080/realms/evn',
  service: { url: 'http://127.0.0.1:9000', reachable: true }
};

export const RESULT = {
  permalink:
    'http://127.0.0.1:3000/EVN/EG078B/src/commit/abc123/demo/calibration',
  commit: 'abc123',
  version: 1,
  folder: 'demo/calibration',
  submitter: DEMO,
  experiment: 'EG078B',
  name: 'calibration',
  created: true
};

export const SUMMARY = {
  experiment: 'EG078B',
  owner: 'demo',
  name: 'calibration',
  folder: 'demo/calibration',
  title: 'Calibration of EG078B',
  description: 'Fringe fitting and bandpass.',
  authors: [{ name: 'Demo Researcher' }],
  license: 'CC-BY-4.0',
  keywords: ['vlbi'],
  version: 2,
  commit: 'def456',
  updated: '2026-11-25T12:00:00Z',
  permalink:
    'http://127.0.0.1:3000/EVN/EG078B/src/commit/def456/demo/calibration'
};

/** A window stand-in that records where it was sent. */
export class FakePopup {
  closed = false;
  location = { href: '' };
  close(): void {
    this.closed = true;
  }
}

/** Let pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}
