import { Dialog } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { nullTranslator } from '@jupyterlab/translation';
import {
  IOpenTarget,
  confirmOpen,
  findTitle,
  openFromLink,
  openLink,
  openParam,
  parseOpenTarget,
  withoutOpenParam
} from '../openlink';
import { FakeServer, SUMMARY } from './fakes';

const trans = nullTranslator.load('jupyterlab_evn_submit');

describe('the evn-open parameter', () => {
  it('is read from the page URL and taken out of it', () => {
    const href =
      'http://127.0.0.1:8888/a%40b/lab/tree/x.ipynb?reset&evn-open=EG078B%2Fdemo%2Fcalibration%402#cell';
    expect(openParam(href)).toBe('EG078B/demo/calibration@2');
    expect(withoutOpenParam(href)).toBe(
      'http://127.0.0.1:8888/a%40b/lab/tree/x.ipynb?reset=#cell'
    );
    expect(openParam('http://127.0.0.1:8888/lab')).toBeNull();
  });

  it('names a notebook, checked by the archive rules', () => {
    expect(parseOpenTarget('eg078b/demo/calibration@2')).toEqual({
      experiment: 'EG078B',
      owner: 'demo',
      name: 'calibration',
      version: 2
    });
    expect(parseOpenTarget('EG078B/a.b@uni.org/calibration.ipynb')).toEqual({
      experiment: 'EG078B',
      owner: 'a.b@uni.org',
      name: 'calibration'
    });
  });

  it.each([
    '',
    'EG078B/demo',
    'EG078B/demo/calibration/x',
    '../etc/demo/calibration',
    'EG078B/../calibration',
    'EG078B/Demo Researcher/calibration',
    'EG078B/demo/..',
    'EG078B/demo/cal ibration',
    'EG078B/demo/calibration@0',
    'EG078B/demo/calibration@two',
    'EG078B/demo/calibration@'
  ])('refuses %p', value => {
    expect(() => parseOpenTarget(value)).toThrow();
  });
});

describe('openFromLink', () => {
  function run(value: string, answer: boolean) {
    const server = new FakeServer();
    server.answer('POST open-copy', {
      path: 'evn-archive/EG078B/calibration-v2.ipynb'
    });
    const asked: IOpenTarget[] = [];
    const refused: string[] = [];
    const api = server.api();
    const outcome = openFromLink({
      value,
      trans,
      ask: async target => {
        asked.push(target);
        return answer;
      },
      openCopy: args => api.openCopy(args as any),
      refuse: message => refused.push(message)
    });
    return { server, asked, refused, outcome };
  }

  it('asks, and on Open opens a copy once', async () => {
    const { server, asked, outcome } = run('EG078B/demo/calibration@2', true);
    expect(await outcome).toBe('opened');
    expect(asked).toHaveLength(1);
    expect(server.callsTo('POST open-copy')).toEqual([
      {
        endPoint: 'open-copy',
        method: 'POST',
        body: {
          experiment: 'EG078B',
          owner: 'demo',
          name: 'calibration',
          version: 2
        }
      }
    ]);
  });

  it('writes nothing when the reader cancels', async () => {
    const { server, asked, outcome } = run('EG078B/demo/calibration', false);
    expect(await outcome).toBe('cancelled');
    expect(asked).toHaveLength(1);
    expect(server.calls).toEqual([]);
  });

  it('refuses a bad link without asking or writing', async () => {
    const { server, asked, refused, outcome } = run('EG078B/../x', true);
    expect(await outcome).toBe('refused');
    expect(asked).toEqual([]);
    expect(server.calls).toEqual([]);
    expect(refused[0]).toContain('This link to the EVN archive is not valid');
  });
});

describe('findTitle', () => {
  const target = { experiment: 'EG078B', owner: 'demo', name: 'calibration' };

  it('is the title the archive search gives', async () => {
    const server = new FakeServer();
    server.answer('GET search', {
      notebooks: [
        { ...SUMMARY, owner: 'other', title: 'Not this one' },
        { ...SUMMARY, snippet: '' }
      ],
      next_cursor: null
    });
    expect(await findTitle(server.api(), target)).toBe(SUMMARY.title);
    expect(server.calls[0].endPoint).toBe('search?experiment=EG078B&limit=100');
  });

  it('is the name when the search fails or finds nothing', async () => {
    const server = new FakeServer(); // no answer: the search fails
    expect(await findTitle(server.api(), target)).toBe('calibration');
    server.answer('GET search', { notebooks: [], next_cursor: null });
    expect(await findTitle(server.api(), target)).toBe('calibration');
  });
});

describe('the confirmation dialog', () => {
  afterEach(() => Dialog.flush());

  async function answer(label: string): Promise<boolean> {
    const asked = confirmOpen(
      { experiment: 'EG078B', owner: 'demo', name: 'calibration', version: 2 },
      trans,
      'Calibration of EG078B'
    );
    let dialog: Element | null = null;
    for (let i = 0; i < 50 && !dialog; i++) {
      await new Promise(resolve => setTimeout(resolve, 10));
      dialog = document.querySelector('.jp-Dialog');
    }
    expect(dialog!.textContent).toContain(
      'Open a copy of Calibration of EG078B (EG078B, version 2) from the EVN archive?'
    );
    const button = Array.from(dialog!.querySelectorAll('button')).find(
      b => b.textContent?.trim() === label
    );
    button!.click();
    return asked;
  }

  it('Open accepts', async () => {
    expect(await answer('Open')).toBe(true);
  });

  it('Cancel declines', async () => {
    expect(await answer('Cancel')).toBe(false);
  });
});

describe('openLink', () => {
  it('goes through the portal’s JupyterHub when there is one', () => {
    expect(openLink(SUMMARY, 'https://portal.example.org/')).toBe(
      'https://portal.example.org/hub/user-redirect/evn-submit/open?experiment=EG078B&owner=demo&name=calibration&version=2'
    );
  });

  it('is this server’s own route without a portal', () => {
    PageConfig.setOption('baseUrl', 'http://127.0.0.1:8888/a%40b/');
    const { version: _, ...latest } = SUMMARY;
    expect(openLink(latest, '')).toBe(
      'http://127.0.0.1:8888/a%40b/evn-submit/open?experiment=EG078B&owner=demo&name=calibration'
    );
  });
});
