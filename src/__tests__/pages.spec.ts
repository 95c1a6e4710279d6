import { EvnArchiveModel } from '../model';
import { ResponseError } from '../request';
import { FakeServer, LOGGED_IN, LOGGED_OUT, SUMMARY, flush } from './fakes';

/** A notebook summary numbered `i`. */
function notebook(i: number, experiment = 'EG078B') {
  return {
    ...SUMMARY,
    experiment,
    name: `notebook-${i}`,
    folder: `demo/notebook-${i}`
  };
}

/** An answer the test releases when it wants. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

function setup() {
  const server = new FakeServer();
  const model = new EvnArchiveModel({
    api: server.api(),
    saveNotebook: async () => undefined,
    openWindow: () => null,
    messageTarget: new EventTarget() as any,
    origin: 'http://127.0.0.1:8888',
    previewDelay: 0
  });
  return { server, model };
}

function query(endPoint: string): Record<string, string> {
  const found: Record<string, string> = {};
  new URLSearchParams(endPoint.split('?')[1] ?? '').forEach((value, name) => {
    found[name] = value;
  });
  return found;
}

describe('My submissions, a page at a time', () => {
  it('shows the first page, then adds the next with its cursor', async () => {
    const { server, model } = setup();
    server.answer(
      'GET submissions',
      { submissions: [notebook(1), notebook(2)], next_cursor: 'c2' },
      { submissions: [notebook(3)], next_cursor: null }
    );
    await model.loadSubmissions();
    expect(model.submissions).toEqual([notebook(1), notebook(2)]);
    expect(model.submissionsMore).toEqual({ cursor: 'c2', loading: false });
    await model.loadMoreSubmissions();
    expect(model.submissions).toEqual([notebook(1), notebook(2), notebook(3)]);
    expect(model.submissionsMore).toEqual({ cursor: null, loading: false });
    const calls = server.callsTo('GET submissions');
    expect(calls.map(c => query(c.endPoint))).toEqual([{}, { cursor: 'c2' }]);
    // the last page: More does nothing
    await model.loadMoreSubmissions();
    expect(server.callsTo('GET submissions')).toHaveLength(2);
  });

  it('says it is loading, and asks only once meanwhile', async () => {
    const { server, model } = setup();
    const next = deferred<unknown>();
    server.answer(
      'GET submissions',
      { submissions: [notebook(1)], next_cursor: 'c2' },
      next.promise
    );
    await model.loadSubmissions();
    const changes: boolean[] = [];
    model.changed.connect(() => changes.push(model.submissionsMore.loading));
    const first = model.loadMoreSubmissions();
    void model.loadMoreSubmissions();
    expect(model.submissionsMore).toEqual({ cursor: 'c2', loading: true });
    next.resolve({ submissions: [notebook(2)], next_cursor: null });
    await first;
    expect(changes).toEqual([true, false]);
    expect(server.callsTo('GET submissions')).toHaveLength(2);
    expect(model.submissions).toEqual([notebook(1), notebook(2)]);
  });

  it('keeps what is shown when the next page fails, and can try again', async () => {
    const { server, model } = setup();
    server.answer(
      'GET submissions',
      { submissions: [notebook(1)], next_cursor: 'c2' },
      new ResponseError(503, 'The EVN notebook archive cannot be reached.'),
      { submissions: [notebook(2)], next_cursor: null }
    );
    await model.loadSubmissions();
    await model.loadMoreSubmissions();
    expect(model.submissions).toEqual([notebook(1)]);
    expect(model.submissionsError).toBe(
      'The EVN notebook archive cannot be reached.'
    );
    expect(model.submissionsMore).toEqual({ cursor: 'c2', loading: false });
    await model.loadMoreSubmissions();
    expect(model.submissions).toEqual([notebook(1), notebook(2)]);
    expect(model.submissionsError).toBe('');
    const calls = server.callsTo('GET submissions');
    expect(calls.map(c => query(c.endPoint).cursor)).toEqual([
      undefined,
      'c2',
      'c2'
    ]);
  });

  it('starts again from the first page after a logout', async () => {
    const { server, model } = setup();
    server.answer('GET status', LOGGED_IN, LOGGED_OUT);
    server.answer('POST logout', { logged_in: false });
    server.answer('GET submissions', {
      submissions: [notebook(1)],
      next_cursor: 'c2'
    });
    await model.refreshStatus();
    await flush();
    expect(model.submissionsMore.cursor).toBe('c2');
    await model.logout();
    expect(model.submissions).toBeNull();
    expect(model.submissionsMore).toEqual({ cursor: null, loading: false });
  });
});

describe('The archive search, a page at a time', () => {
  const hit = (i: number, experiment = 'EG078B') => ({
    ...notebook(i, experiment),
    snippet: `<mark>fringe</mark> ${i}`
  });

  it('sends the filters given, then adds the next page with its cursor', async () => {
    const { server, model } = setup();
    server.answer(
      'GET search',
      { notebooks: [hit(1)], next_cursor: 's2' },
      { notebooks: [hit(2)], next_cursor: null }
    );
    expect(model.archive.query).toBeNull();
    await model.search({
      q: ' fringe ',
      experiment: 'eg078b',
      author: '',
      keyword: 'vlbi',
      license: ''
    });
    expect(model.archive.query).toEqual({
      q: 'fringe',
      experiment: 'EG078B',
      keyword: 'vlbi'
    });
    expect(model.archive.more).toEqual({ cursor: 's2', loading: false });
    await model.searchMore();
    expect(model.archive.hits).toEqual([hit(1), hit(2)]);
    expect(model.archive.more.cursor).toBeNull();
    const calls = server.callsTo('GET search').map(c => query(c.endPoint));
    expect(calls).toEqual([
      { q: 'fringe', experiment: 'EG078B', keyword: 'vlbi' },
      { q: 'fringe', experiment: 'EG078B', keyword: 'vlbi', cursor: 's2' }
    ]);
  });

  it('finds nothing, or says why it failed', async () => {
    const { server, model } = setup();
    server.answer(
      'GET search',
      { notebooks: [], next_cursor: null },
      new ResponseError(503, 'The EVN notebook archive cannot be reached.')
    );
    await model.search({ q: 'nothing' });
    expect(model.archive.hits).toEqual([]);
    expect(model.archive.error).toBe('');
    await model.search({ q: 'fringe' });
    expect(model.archive.hits).toBeNull();
    expect(model.archive.error).toBe(
      'The EVN notebook archive cannot be reached.'
    );
  });

  it('says what is wrong with an experiment code before asking', async () => {
    const { server, model } = setup();
    await model.search({ experiment: 'not a code' });
    expect(model.archive.error).toContain('is not an EVN experiment code');
    expect(server.callsTo('GET search')).toHaveLength(0);
  });

  it('browses an experiment as a search of it alone', async () => {
    const { server, model } = setup();
    server.answer('GET search', { notebooks: [hit(1)], next_cursor: null });
    await model.browse('eg078b');
    expect(model.archive.query).toEqual({ experiment: 'EG078B' });
    expect(query(server.callsTo('GET search')[0].endPoint)).toEqual({
      experiment: 'EG078B'
    });
  });

  it('drops a late page of the search before', async () => {
    const { server, model } = setup();
    const late = deferred<unknown>();
    server.answer(
      'GET search',
      { notebooks: [hit(1)], next_cursor: 's2' },
      late.promise,
      { notebooks: [hit(9, 'EK050A')], next_cursor: null }
    );
    await model.search({ experiment: 'EG078B' });
    const more = model.searchMore();
    await model.search({ experiment: 'EK050A' });
    late.resolve({ notebooks: [hit(2)], next_cursor: null });
    await more;
    expect(model.archive.query).toEqual({ experiment: 'EK050A' });
    expect(model.archive.hits).toEqual([hit(9, 'EK050A')]);
    expect(model.archive.more).toEqual({ cursor: null, loading: false });
  });
});

describe('EvnApi.search', () => {
  it('sends the filters that are given, and the page', async () => {
    const server = new FakeServer();
    const hit = { ...SUMMARY, snippet: 'the <mark>fringe</mark> step' };
    server.answer('GET search', { notebooks: [hit], next_cursor: 's2' });
    const answer = await server.api().search({
      q: 'fringe fitting',
      experiment: 'EG078B',
      author: '',
      keyword: 'vlbi',
      since: '2026-01-01',
      sort: 'updated',
      limit: 10,
      cursor: 's1'
    });
    expect(answer.notebooks[0].snippet).toBe('the <mark>fringe</mark> step');
    expect(answer.next_cursor).toBe('s2');
    const [call] = server.callsTo('GET search');
    expect(call.method).toBe('GET');
    expect(query(call.endPoint)).toEqual({
      q: 'fringe fitting',
      experiment: 'EG078B',
      keyword: 'vlbi',
      since: '2026-01-01',
      sort: 'updated',
      limit: '10',
      cursor: 's1'
    });
    await server.api().search({});
    expect(server.callsTo('GET search')[1].endPoint).toBe('search');
  });

  it('passes the page of the other lists', async () => {
    const server = new FakeServer();
    server.answer('GET experiments/EG078B/notebooks/demo/a%20b/versions', {
      experiment: 'EG078B',
      versions: [],
      next_cursor: null
    });
    await server.api().versions('EG078B', 'demo', 'a b', {
      limit: 5,
      cursor: 'v/2'
    });
    expect(server.calls[0].endPoint).toBe(
      'experiments/EG078B/notebooks/demo/a%20b/versions?limit=5&cursor=v%2F2'
    );
  });
});
