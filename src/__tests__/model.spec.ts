import { EvnArchiveModel } from '../model';
import { ResponseError } from '../request';
import {
  DEMO,
  FakePopup,
  FakeServer,
  LOGGED_IN,
  LOGGED_OUT,
  RESULT,
  SUMMARY,
  flush
} from './fakes';

const ORIGIN = 'http://127.0.0.1:8888';

function setup(
  options: {
    popup?: FakePopup | null;
    saveNotebook?: (path: string) => Promise<void>;
  } = {}
) {
  const server = new FakeServer();
  const messages = new EventTarget();
  const opened: string[] = [];
  const popup = options.popup === undefined ? new FakePopup() : options.popup;
  const model = new EvnArchiveModel({
    api: server.api(),
    saveNotebook: options.saveNotebook ?? (async () => undefined),
    openWindow: url => {
      opened.push(url);
      return popup as unknown as Window;
    },
    messageTarget: messages as any,
    origin: ORIGIN,
    previewDelay: 0,
    defaults: { orcid: '0000-0002-1825-0097', affiliation: 'JIVE' }
  });
  // The callback page posts from the popup window (`event.source`).
  const post = (data: unknown, origin = ORIGIN, source: unknown = popup) => {
    const event = new MessageEvent('message', { data, origin });
    Object.defineProperty(event, 'source', { value: source });
    messages.dispatchEvent(event);
  };
  return { server, model, opened, popup, post };
}

function fillForm(model: EvnArchiveModel) {
  model.setNotebookPath('work/calibration.ipynb');
  model.setForm({
    ...model.form,
    experiment: 'eg078b',
    title: 'Calibration of EG078B',
    description: 'Fringe fitting',
    keywords: ['vlbi', ' '],
    message: 'first version'
  });
}

describe('EvnArchiveModel', () => {
  it('prefills the logged-in researcher as the first author', async () => {
    const { server, model } = setup();
    server.answer('GET status', LOGGED_IN);
    server.answer('GET submissions', { submissions: [] });
    await model.refreshStatus();
    expect(model.status?.user?.username).toBe('demo');
    expect(model.form.authors).toEqual([
      {
        name: 'Demo Researcher',
        orcid: '0000-0002-1825-0097',
        affiliation: 'JIVE'
      }
    ]);
  });

  it('reports an unreachable server instead of a login state', async () => {
    const { server, model } = setup();
    server.answer(
      'GET status',
      new ResponseError(0, 'The Jupyter server cannot be reached.')
    );
    await model.refreshStatus();
    expect(model.status).toBeNull();
    expect(model.statusError).toBe('The Jupyter server cannot be reached.');
  });

  it('opens the popup before asking for the authorize URL, then navigates it', async () => {
    const { server, model, opened, popup } = setup();
    server.answer('POST login', { authorize_url: 'http://kc/auth?state=s' });
    const done = model.startLogin();
    // The popup exists synchronously, before the POST answered.
    expect(opened).toEqual(['']);
    expect(model.login.kind).toBe('popup');
    await done;
    expect(server.callsTo('POST login')).toHaveLength(1);
    expect(popup!.location.href).toBe('http://kc/auth?state=s');
  });

  it('accepts the login message only from the Jupyter origin', async () => {
    const { server, model, post } = setup();
    server.answer('POST login', { authorize_url: 'http://kc/auth' });
    server.answer('GET status', LOGGED_IN);
    server.answer('GET submissions', { submissions: [] });
    await model.startLogin();
    const message = {
      source: 'jupyterlab-evn-submit',
      type: 'login',
      ok: true
    };
    post(message, 'http://evil.example');
    await flush();
    expect(server.callsTo('GET status')).toHaveLength(0);
    expect(model.login.kind).toBe('popup');
    post({ ...message, source: 'other' });
    await flush();
    expect(server.callsTo('GET status')).toHaveLength(0);
    post(message);
    await flush();
    expect(model.login.kind).toBe('idle');
    expect(model.status?.user).toEqual(DEMO);
  });

  it('accepts the login message only from the popup it opened', async () => {
    const { server, model, post } = setup();
    server.answer('POST login', { authorize_url: 'http://kc/auth' });
    server.answer('GET status', LOGGED_IN);
    server.answer('GET submissions', { submissions: [] });
    const message = {
      source: 'jupyterlab-evn-submit',
      type: 'login',
      ok: false,
      message: 'forged'
    };
    post(message); // before any login: no popup is open
    await model.startLogin();
    // another window (an iframe, another tab) of the same origin
    post(message, ORIGIN, new FakePopup());
    post(message, ORIGIN, null);
    await flush();
    expect(model.login.kind).toBe('popup');
    expect(server.callsTo('GET status')).toHaveLength(0);
    post({ ...message, ok: true });
    await flush();
    expect(model.login.kind).toBe('idle');
    expect(model.status?.user).toEqual(DEMO);
  });

  it('ignores a second login message once the popup has answered', async () => {
    const { server, model, post } = setup();
    server.answer('POST login', { authorize_url: 'http://kc/auth' });
    server.answer('GET status', LOGGED_IN);
    server.answer('GET submissions', { submissions: [] });
    await model.startLogin();
    post({ source: 'jupyterlab-evn-submit', type: 'login', ok: true });
    await flush();
    post({
      source: 'jupyterlab-evn-submit',
      type: 'login',
      ok: false,
      message: 'replayed'
    });
    expect(model.login.kind).toBe('idle');
  });

  it('shows the login error the callback page reports', async () => {
    const { server, model, post } = setup();
    server.answer('POST login', { authorize_url: 'http://kc/auth' });
    await model.startLogin();
    post({
      source: 'jupyterlab-evn-submit',
      type: 'login',
      ok: false,
      message: 'The login was cancelled.'
    });
    expect(model.login).toEqual({
      kind: 'error',
      message: 'The login was cancelled.'
    });
  });

  it('reports a blocked popup and does not start a login', async () => {
    const { server, model } = setup({ popup: null });
    await model.startLogin();
    expect(model.login.kind).toBe('blocked');
    expect(server.callsTo('POST login')).toHaveLength(0);
  });

  it('keeps what the researcher typed across a login', async () => {
    const { server, model, post } = setup();
    fillForm(model);
    const before = model.form;
    server.answer('POST login', { authorize_url: 'http://kc/auth' });
    server.answer('GET status', LOGGED_IN);
    server.answer('GET submissions', { submissions: [] });
    server.answer('GET preview', {
      size: 1,
      original_size: 1,
      stripped_outputs: 0,
      limit: 10
    });
    await model.startLogin();
    post({ source: 'jupyterlab-evn-submit', type: 'login', ok: true });
    await flush();
    expect(model.status?.logged_in).toBe(true);
    expect(model.form.title).toBe(before.title);
    expect(model.form.experiment).toBe('eg078b');
    expect(model.form.description).toBe('Fringe fitting');
    // The empty author list was filled in by the login.
    expect(model.form.authors[0].name).toBe('Demo Researcher');
  });

  it('polls the device login until it is done', async () => {
    jest.useFakeTimers();
    try {
      const { server, model } = setup();
      server.answer('POST device', {
        device_id: 'd1',
        user_code: 'ABCD-EFGH',
        verification_uri: 'http://kc/device',
        expires_in: 600,
        interval: 1
      });
      server.answer(
        'POST device/poll',
        { status: 'pending' },
        { status: 'done', user: DEMO }
      );
      server.answer('GET status', LOGGED_IN);
      server.answer('GET submissions', { submissions: [] });
      await model.startDeviceLogin();
      expect(model.login.kind).toBe('device');
      await jest.advanceTimersByTimeAsync(1000);
      expect(model.login.kind).toBe('device');
      await jest.advanceTimersByTimeAsync(1000);
      expect(server.callsTo('POST device/poll').map(c => c.body)).toEqual([
        { device_id: 'd1' },
        { device_id: 'd1' }
      ]);
      expect(model.login.kind).toBe('idle');
      expect(model.status?.logged_in).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('saves the notebook before it uploads it', async () => {
    const order: string[] = [];
    const { server, model } = setup({
      saveNotebook: async path => {
        order.push(`save ${path}`);
        // Nothing was uploaded yet when the notebook is saved.
        expect(server.callsTo('POST submit')).toHaveLength(0);
      }
    });
    server.answer('GET preview', {
      size: 1,
      original_size: 1,
      stripped_outputs: 0,
      limit: 10
    });
    server.answer('POST submit', RESULT);
    server.answer('GET submissions', { submissions: [SUMMARY] });
    fillForm(model);
    const result = await model.submitNotebook();
    const submit = server.callsTo('POST submit');
    order.push(...submit.map(() => 'submit'));
    expect(order).toEqual(['save work/calibration.ipynb', 'submit']);
    expect(result).toEqual(RESULT);
    expect(model.submit).toEqual({ kind: 'done', result: RESULT });
    expect(submit[0].body).toMatchObject({
      path: 'work/calibration.ipynb',
      experiment: 'EG078B',
      metadata: {
        title: 'Calibration of EG078B',
        description: 'Fringe fitting',
        license: 'CC-BY-4.0',
        keywords: ['vlbi']
      },
      output_policy: 'strip-large',
      output_budget: 5 * 1024 * 1024,
      message: 'first version'
    });
    expect(submit[0].body.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('upper-cases only the ASCII letters of the experiment code it sends', async () => {
    const { server, model } = setup();
    server.answer('GET preview', {
      size: 1,
      original_size: 1,
      stripped_outputs: 0,
      limit: 10
    });
    server.answer('POST submit', RESULT);
    server.answer('GET submissions', { submissions: [SUMMARY] });
    fillForm(model);
    // U+017F: toUpperCase would send SG078B, someone else's experiment
    model.setForm({ ...model.form, experiment: ' \u017fg078b ' });
    await model.submitNotebook();
    expect(server.callsTo('POST submit')[0].body.experiment).toBe(
      '\u017fG078B'
    );
  });

  it('does not upload when saving fails', async () => {
    const { server, model } = setup({
      saveNotebook: async () => {
        throw new Error('disk full');
      }
    });
    server.answer('GET preview', {
      size: 1,
      original_size: 1,
      stripped_outputs: 0,
      limit: 10
    });
    fillForm(model);
    await expect(model.submitNotebook()).rejects.toThrow('disk full');
    expect(server.callsTo('POST submit')).toHaveLength(0);
    expect(model.submit.kind).toBe('error');
  });

  it('reuses the idempotency key when it retries a failed upload', async () => {
    const { server, model } = setup();
    server.answer('GET preview', {
      size: 1,
      original_size: 1,
      stripped_outputs: 0,
      limit: 10
    });
    server.answer(
      'POST submit',
      new ResponseError(504, 'The notebook service did not answer in time.'),
      RESULT
    );
    server.answer('GET submissions', { submissions: [] });
    fillForm(model);
    await expect(model.submitNotebook()).rejects.toThrow(
      'did not answer in time'
    );
    expect(model.submit).toMatchObject({
      kind: 'error',
      message: 'The notebook service did not answer in time.'
    });
    await model.submitNotebook();
    const keys = server.callsTo('POST submit').map(c => c.body.idempotency_key);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    // A new submission after the success gets a new key.
    await model.submitNotebook();
    const third = server.callsTo('POST submit')[2].body.idempotency_key;
    expect(third).not.toBe(keys[0]);
  });

  it('uses a new key after a refused request or a changed form', async () => {
    const { server, model } = setup();
    server.answer('GET preview', {
      size: 1,
      original_size: 1,
      stripped_outputs: 0,
      limit: 10
    });
    server.answer(
      'POST submit',
      new ResponseError(400, 'Unknown experiment EG078B.'),
      new ResponseError(503, 'The notebook service cannot be reached.'),
      RESULT
    );
    server.answer('GET submissions', { submissions: [] });
    fillForm(model);
    await expect(model.submitNotebook()).rejects.toThrow();
    await expect(model.submitNotebook()).rejects.toThrow();
    model.setForm({ ...model.form, title: 'Another title' });
    await model.submitNotebook();
    const keys = server.callsTo('POST submit').map(c => c.body.idempotency_key);
    expect(new Set(keys).size).toBe(3);
  });

  it('asks for the upload size with the chosen output policy', async () => {
    const { server, model } = setup();
    server.answer('GET preview', {
      size: 2048,
      original_size: 4096,
      stripped_outputs: 3,
      limit: 1000000
    });
    model.setNotebookPath('a b.ipynb');
    model.setForm({
      ...model.form,
      output_policy: 'strip',
      output_budget_mb: 1
    });
    await new Promise(resolve => setTimeout(resolve, 5));
    await flush();
    const last = server.callsTo('GET preview').pop()!;
    const query = new URLSearchParams(last.endPoint.split('?')[1]);
    expect(query.get('path')).toBe('a b.ipynb');
    expect(query.get('output_policy')).toBe('strip');
    expect(query.get('output_budget')).toBe(String(1024 * 1024));
    expect(model.preview?.stripped_outputs).toBe(3);
  });

  it('opens a copy of a chosen version', async () => {
    const { server, model } = setup();
    server.answer('POST open-copy', {
      path: 'evn-archive/EG078B/calibration-1.ipynb'
    });
    const path = await model.openCopy(SUMMARY, 1);
    expect(path).toBe('evn-archive/EG078B/calibration-1.ipynb');
    expect(server.callsTo('POST open-copy')[0].body).toEqual({
      experiment: 'EG078B',
      owner: 'demo',
      name: 'calibration',
      version: 1
    });
  });

  it('logs out and forgets the submissions', async () => {
    const { server, model } = setup();
    server.answer('GET status', LOGGED_IN, LOGGED_OUT);
    server.answer('GET submissions', { submissions: [SUMMARY] });
    server.answer('POST logout', { logged_in: false });
    await model.refreshStatus();
    await flush();
    expect(model.submissions).toEqual([SUMMARY]);
    await model.logout();
    expect(server.callsTo('POST logout')).toHaveLength(1);
    expect(model.status?.logged_in).toBe(false);
    expect(model.submissions).toBeNull();
  });

  it('follows changed defaults only in untouched fields', () => {
    const { model } = setup();
    model.setForm({ ...model.form, output_policy: 'keep' });
    model.setDefaults({
      license: 'MIT',
      authors: [],
      affiliation: '',
      orcid: '',
      outputPolicy: 'strip',
      outputBudgetMb: 2
    });
    expect(model.form.license).toBe('MIT');
    expect(model.form.output_policy).toBe('keep');
    expect(model.form.output_budget_mb).toBe(2);
  });
});
