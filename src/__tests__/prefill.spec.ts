import { EvnArchiveModel } from '../model';
import {
  experimentFromFileName,
  experimentFromMetadata,
  INotebookLike,
  prefillFor,
  titleFromCells
} from '../prefill';
import { AuthorSettings, rememberAuthor } from '../remember';
import { ISubmissionForm } from '../tokens';
import { DEMO, FakeServer, flush } from './fakes';

const md = (source: string | string[]) => ({ cell_type: 'markdown', source });
const code = (source: string) => ({ cell_type: 'code', source });

describe('guesses from the notebook', () => {
  it('reads the experiment code from metadata.evn.experiment, checked', () => {
    expect(experimentFromMetadata({ evn: { experiment: 'eg078b' } })).toBe(
      'EG078B'
    );
    expect(experimentFromMetadata({ evn: { experiment: 'not a code' } })).toBe(
      ''
    );
    expect(experimentFromMetadata({ evn: { experiment: 7 } })).toBe('');
    expect(experimentFromMetadata({ experiment: 'EG078B' })).toBe('');
    expect(experimentFromMetadata(undefined)).toBe('');
  });

  it('takes a leading experiment code of the file name', () => {
    expect(experimentFromFileName('work/EG078B-calibration.ipynb')).toBe(
      'EG078B'
    );
    expect(experimentFromFileName('eg078b_flagging.ipynb')).toBe('EG078B');
    expect(experimentFromFileName('N24L1.ipynb')).toBe('N24L1');
    expect(experimentFromFileName('EG078B/calibration.ipynb')).toBe('');
    expect(experimentFromFileName('calibration.ipynb')).toBe('');
    expect(experimentFromFileName('Untitled1.ipynb')).toBe('');
  });

  it('takes the title from the first markdown heading', () => {
    expect(
      titleFromCells([
        code('# not markdown'),
        md('Some text\nwithout a heading'),
        md(['## Calibration of *EG078B* ##\n', '# Second']),
        md('# Later')
      ])
    ).toBe('Calibration of EG078B');
    expect(titleFromCells([md('Fringe [fitting](http://x)\n===\n')])).toBe(
      'Fringe fitting'
    );
    expect(titleFromCells([md('#hashtag, not a heading')])).toBe('');
    expect(titleFromCells(undefined)).toBe('');
    expect([...titleFromCells([md('# ' + 'x'.repeat(300))])]).toHaveLength(200);
  });

  it('prefers the metadata to the file name', () => {
    const notebook: INotebookLike = {
      metadata: { evn: { experiment: 'EK050A' } },
      cells: [md('# Flagging')]
    };
    expect(prefillFor('EG078B-flagging.ipynb', notebook)).toEqual({
      experiment: 'EK050A',
      title: 'Flagging'
    });
    expect(prefillFor('EG078B-flagging.ipynb', null)).toEqual({
      experiment: 'EG078B',
      title: ''
    });
  });
});

function setup(notebooks: Record<string, INotebookLike>) {
  const server = new FakeServer();
  server.answer('GET preview', {
    size: 1,
    original_size: 1,
    stripped_outputs: 0,
    limit: 10
  });
  const model = new EvnArchiveModel({
    api: server.api(),
    saveNotebook: async () => undefined,
    readNotebook: async path => {
      if (!(path in notebooks)) {
        throw new Error('no such file');
      }
      return notebooks[path];
    },
    openWindow: () => null,
    messageTarget: new EventTarget() as any,
    origin: 'http://127.0.0.1:8888',
    previewDelay: 0
  });
  return model;
}

describe('the submit form fills itself in', () => {
  it('from the notebook, into blank fields and earlier guesses only', async () => {
    const model = setup({
      'a.ipynb': {
        metadata: { evn: { experiment: 'EG078B' } },
        cells: [md('# Calibration')]
      },
      'EK050A-flagging.ipynb': { cells: [md('# Flagging')] }
    });
    model.setNotebookPath('a.ipynb');
    await flush();
    expect(model.form.experiment).toBe('EG078B');
    expect(model.form.title).toBe('Calibration');

    // A title typed by the researcher stays; the guessed code follows.
    model.setForm({ ...model.form, title: 'My own title' });
    model.setNotebookPath('EK050A-flagging.ipynb');
    await flush();
    expect(model.form.experiment).toBe('EK050A');
    expect(model.form.title).toBe('My own title');
  });

  it('from the file name when the notebook cannot be read', async () => {
    const model = setup({});
    model.setNotebookPath('eg078b_flagging.ipynb');
    await flush();
    expect(model.form.experiment).toBe('EG078B');
    expect(model.form.title).toBe('');
  });
});

/** Settings in memory, as `ISettingRegistry.ISettings` answers them. */
function fakeSettings(values: Record<string, string>) {
  const writes: Array<[string, string]> = [];
  const settings = {
    get: (key: string) => ({ composite: values[key], user: values[key] }),
    set: async (key: string, value: string) => {
      writes.push([key, value]);
      values[key] = value;
    }
  } as unknown as AuthorSettings;
  return { settings, writes, values };
}

const FORM: ISubmissionForm = {
  experiment: 'EG078B',
  title: 'Calibration',
  authors: [
    { name: 'Someone Else', orcid: '0000-0001-5109-3700' },
    {
      name: DEMO.name,
      orcid: '0000-0002-1825-0097',
      affiliation: 'JIVE, Dwingeloo'
    }
  ],
  license: 'CC-BY-4.0',
  output_policy: 'strip-large'
};

describe('the researcher’s ORCID iD and affiliation are remembered', () => {
  it('writes the logged-in researcher’s entry to the settings', async () => {
    const { settings, writes } = fakeSettings({ orcid: '', affiliation: '' });
    await rememberAuthor(settings, FORM, DEMO);
    expect(writes).toEqual([
      ['orcid', '0000-0002-1825-0097'],
      ['affiliation', 'JIVE, Dwingeloo']
    ]);
  });

  it('writes nothing unchanged, empty or invalid', async () => {
    const same = fakeSettings({
      orcid: '0000-0002-1825-0097',
      affiliation: 'JIVE, Dwingeloo'
    });
    await rememberAuthor(same.settings, FORM, DEMO);
    expect(same.writes).toEqual([]);

    const kept = fakeSettings({
      orcid: '0000-0002-1825-0097',
      affiliation: 'JIVE'
    });
    const form = {
      ...FORM,
      authors: [{ name: DEMO.name, orcid: '0000-0002-1825-0098' }]
    };
    await rememberAuthor(kept.settings, form, DEMO);
    expect(kept.writes).toEqual([]);
  });

  it('takes the first author when none is the logged-in researcher', async () => {
    const { settings, writes } = fakeSettings({ orcid: '', affiliation: '' });
    await rememberAuthor(settings, FORM, null);
    expect(writes).toEqual([['orcid', '0000-0001-5109-3700']]);
  });

  it('and the next form starts with them', async () => {
    const { settings, values } = fakeSettings({ orcid: '', affiliation: '' });
    await rememberAuthor(settings, FORM, DEMO);
    const server = new FakeServer();
    server.answer('GET status', {
      logged_in: true,
      user: DEMO,
      service: { url: 'http://127.0.0.1:9000', reachable: true }
    });
    server.answer('GET submissions', { submissions: [], next_cursor: null });
    const model = new EvnArchiveModel({
      api: server.api(),
      saveNotebook: async () => undefined,
      openWindow: () => null,
      messageTarget: new EventTarget() as any,
      origin: 'http://127.0.0.1:8888',
      defaults: { orcid: values.orcid, affiliation: values.affiliation }
    });
    await model.refreshStatus();
    expect(model.form.authors[0]).toEqual({
      name: DEMO.name,
      orcid: '0000-0002-1825-0097',
      affiliation: 'JIVE, Dwingeloo'
    });
    model.dispose();
  });
});
