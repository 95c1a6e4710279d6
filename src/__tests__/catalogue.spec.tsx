import { nullTranslator } from '@jupyterlab/translation';
import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';
import { EvnApi } from '../api';
import { ObservationLine } from '../components/Observation';
import { coneProblem } from '../components/Position';
import { Search, ISearchProps } from '../components/Search';
import { SubmitForm, ISubmitFormProps } from '../components/SubmitForm';
import { EvnArchiveModel } from '../model';
import { ObservationLookup, observationText } from '../observation';
import { ResponseError } from '../request';
import { searchParams } from '../search';
import { IObservation, ISearchHit, ObservationState } from '../tokens';
import { FakeServer, RESULT, SUMMARY, flush } from './fakes';

/**
 * The JupyterLab side of the archive's catalogue (docs/catalogue.md,
 * "Extension and panel"): the line under the experiment field as the code is
 * typed, the refusal of an unknown code, the embargo after a submission, and
 * the Archive's search by source name and position with each hit's data.
 */

const trans = nullTranslator.load('jupyterlab_evn_submit');

const EG078B: IObservation = {
  experiment: 'EG078B',
  catalogued: true,
  targets: [
    { name: 'J0927+3902', ra: 141.7625, dec: 39.0392 },
    { name: '3C 345', ra: 250.745, dec: 39.8103 }
  ],
  start: '2019-03-02T10:00:00Z',
  end: '2019-03-02T22:00:00Z',
  public: true,
  public_from: '2020-03-01T22:00:00Z',
  products: [
    { did: 'ivo://evn/EG078B#1', access_url: 'https://archive.test/EG078B.tgz' }
  ]
};
const PROPRIETARY: IObservation = {
  ...EG078B,
  experiment: 'EG123A',
  public: false,
  public_from: '2027-05-01T00:00:00Z'
};

function unknown(code: string, suggestions: unknown): ResponseError {
  const body = {
    message: `No experiment ${code}.`,
    error: 'UnknownExperiment'
  };
  return new ResponseError(
    404,
    body.message,
    JSON.stringify({ ...body, suggestions })
  );
}

/** A requester whose answers to `GET observation` the test releases by code. */
class Catalogue {
  asked: string[] = [];
  private pending = new Map<string, (answer: unknown) => void>();

  readonly request = <T,>(endPoint: string): Promise<T> => {
    const code = new URLSearchParams(endPoint.split('?')[1]).get('experiment')!;
    this.asked.push(code);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(code, answer =>
        answer instanceof Error ? reject(answer) : resolve(answer as T)
      );
    });
  };

  answer(code: string, answer: unknown): void {
    this.pending.get(code)!(answer);
  }
}

describe('the lookup of the experiment code', () => {
  let catalogue: Catalogue;
  let states: ObservationState[];
  let lookup: ObservationLookup;

  beforeEach(() => {
    jest.useFakeTimers();
    catalogue = new Catalogue();
    states = [];
    lookup = new ObservationLookup(new EvnApi(catalogue.request), () =>
      states.push(lookup.state)
    );
  });

  afterEach(() => {
    lookup.dispose();
    jest.useRealTimers();
  });

  it('asks once, 300 ms after the last keystroke, for the canonical code', async () => {
    for (const typed of ['e', 'eg', 'eg07', 'eg078', 'eg078b']) {
      lookup.lookup(typed);
      await jest.advanceTimersByTimeAsync(100);
    }
    expect(catalogue.asked).toEqual([]);
    await jest.advanceTimersByTimeAsync(200);
    expect(catalogue.asked).toEqual(['EG078B']);
    expect(lookup.state).toEqual({ kind: 'loading', experiment: 'EG078B' });
    catalogue.answer('EG078B', EG078B);
    await flush();
    expect(lookup.state).toEqual({
      kind: 'found',
      experiment: 'EG078B',
      observation: EG078B
    });
  });

  it('keeps the answer for the code typed last, whatever answers later', async () => {
    lookup.lookup('EG078B');
    await jest.advanceTimersByTimeAsync(300);
    lookup.lookup('EG123A');
    await jest.advanceTimersByTimeAsync(300);
    expect(catalogue.asked).toEqual(['EG078B', 'EG123A']);
    catalogue.answer('EG123A', PROPRIETARY);
    await flush();
    catalogue.answer('EG078B', EG078B); // the slow, stale answer
    await flush();
    expect(lookup.state).toMatchObject({
      kind: 'found',
      observation: PROPRIETARY
    });
  });

  it('asks nothing for an empty or malformed code, and forgets the last one', async () => {
    lookup.lookup('EG078B');
    await jest.advanceTimersByTimeAsync(300);
    lookup.lookup('EG 078');
    catalogue.answer('EG078B', EG078B);
    await jest.advanceTimersByTimeAsync(1000);
    expect(lookup.state).toEqual({ kind: 'none' });
    lookup.lookup('  ');
    await jest.advanceTimersByTimeAsync(1000);
    expect(catalogue.asked).toEqual(['EG078B']);
  });

  it('reads an unknown code and its close codes from the 404', async () => {
    lookup.lookup('EG078C');
    await jest.advanceTimersByTimeAsync(300);
    catalogue.answer('EG078C', unknown('EG078C', ['EG078B', 'EG087C', 7]));
    await flush();
    expect(lookup.state).toEqual({
      kind: 'unknown',
      experiment: 'EG078C',
      message: 'No experiment EG078C.',
      suggestions: ['EG078B', 'EG087C']
    });
    expect(lookup.refusal('eg078c ', trans)).toBe(
      'Unknown experiment EG078C — did you mean EG078B, EG087C?'
    );
    expect(lookup.refusal('EG078B', trans)).toBe('');
  });

  it('takes a 503 as "cannot say", never as unknown', async () => {
    lookup.lookup('EG078B');
    await jest.advanceTimersByTimeAsync(300);
    catalogue.answer(
      'EG078B',
      new ResponseError(503, 'The catalogue did not answer.', '{}')
    );
    await flush();
    expect(lookup.state.kind).toBe('unavailable');
    expect(lookup.refusal('EG078B', trans)).toBe('');
  });
});

describe('the line under the experiment field', () => {
  let container: HTMLDivElement;
  let root: Root;

  beforeEach(() => {
    (globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;
    container = document.createElement('div');
    document.body.appendChild(container);
    root = createRoot(container);
  });

  afterEach(() => {
    act(() => root.unmount());
    container.remove();
  });

  const FORM = {
    experiment: 'EG078C',
    title: 'Calibration',
    description: '',
    authors: [{ name: 'Demo Researcher' }],
    license: 'CC-BY-4.0',
    keywords: [],
    output_policy: 'keep' as const,
    output_budget_mb: 5,
    message: ''
  };

  function form(overrides: Partial<ISubmitFormProps>): ISubmitFormProps {
    return {
      notebookPath: 'calibration.ipynb',
      loggedIn: true,
      form: FORM,
      preview: null,
      previewError: '',
      submit: { kind: 'idle' },
      trans,
      onChange: () => undefined,
      onSubmit: () => undefined,
      ...overrides
    };
  }

  function line(): HTMLElement {
    return container.querySelector('.jp-evn-submit-observation')!;
  }

  it('shows the observation under the field, as a polite live region', () => {
    const observation = {
      kind: 'found' as const,
      experiment: 'EG078B',
      observation: EG078B
    };
    act(() => root.render(<SubmitForm {...form({ observation })} />));
    const input = container.querySelector('#root_experiment')!;
    // under the experiment field, in its wrapper
    expect(input.closest('.jp-inputFieldWrapper')!.contains(line())).toBe(true);
    expect(line().getAttribute('aria-live')).toBe('polite');
    expect(line().textContent).toBe(
      'Observed 2019-03-02 · targets J0927+3902, 3C 345 · public'
    );
  });

  it('says until when the data are proprietary', () => {
    expect(observationText(PROPRIETARY, trans)).toBe(
      'Observed 2019-03-02 · targets J0927+3902, 3C 345 · proprietary until 2027-05-01 (your notebook stays private until then)'
    );
    expect(
      observationText({ ...EG078B, end: '2019-03-04T02:00:00Z' }, trans)
    ).toContain('Observed 2019-03-02 – 2019-03-04');
  });

  it('says nothing when the catalogue does not cover the code', () => {
    const observation = {
      kind: 'found' as const,
      experiment: 'UT1234A',
      observation: { experiment: 'UT1234A', catalogued: false as const }
    };
    act(() => root.render(<SubmitForm {...form({ observation })} />));
    expect(line().textContent).toBe('');
  });

  it('offers the close codes as buttons that fill the field', () => {
    const onChange = jest.fn();
    const observation: ObservationState = {
      kind: 'unknown',
      experiment: 'EG078C',
      message: '',
      suggestions: ['EG078B', 'EG087C']
    };
    act(() => root.render(<SubmitForm {...form({ observation, onChange })} />));
    expect(line().textContent).toBe(
      'Unknown experiment EG078C — did you mean EG078B, EG087C?'
    );
    const pick = Array.from(line().querySelectorAll('button')).find(
      b => b.textContent === 'EG087C'
    )!;
    expect(pick.getAttribute('type')).toBe('button'); // Enter and Space work
    expect(pick.getAttribute('aria-label')).toBe('Use experiment EG087C');
    act(() => pick.click());
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ experiment: 'EG087C', title: 'Calibration' })
    );
  });

  it('says neutrally when the catalogue cannot be asked', () => {
    const picked = jest.fn();
    act(() =>
      root.render(
        <ObservationLine
          state={{ kind: 'unavailable', experiment: 'EG078B', message: 'x' }}
          trans={trans}
          onPick={picked}
        />
      )
    );
    expect(line().textContent).toContain('cannot be asked just now');
    expect(line().className).not.toContain('unknown');
  });

  it('tells after an embargoed submission until when the notebook is private', () => {
    const result = {
      ...RESULT,
      experiment: 'EG123A',
      observation: PROPRIETARY,
      public_from: '2027-05-01T00:00:00Z'
    };
    act(() =>
      root.render(
        <SubmitForm {...form({ submit: { kind: 'done', result } })} />
      )
    );
    expect(
      container.querySelector('.jp-evn-submit-result')!.textContent
    ).toContain('your notebook stays private until 2027-05-01');
    const open = { ...RESULT, public_from: null };
    act(() =>
      root.render(
        <SubmitForm {...form({ submit: { kind: 'done', result: open } })} />
      )
    );
    expect(container.querySelector('.jp-evn-submit-embargo')).toBeNull();
  });
});

describe('the model and the catalogue', () => {
  function setup() {
    const server = new FakeServer();
    const model = new EvnArchiveModel({
      api: server.api(),
      saveNotebook: async () => undefined,
      messageTarget: new EventTarget() as any,
      origin: 'http://127.0.0.1:8888',
      previewDelay: 0,
      observationDelay: 0
    });
    server.answer('GET preview', {
      size: 1,
      original_size: 1,
      stripped_outputs: 0,
      limit: 10
    });
    server.answer('GET submissions', { submissions: [], next_cursor: null });
    model.setNotebookPath('calibration.ipynb');
    return { server, model };
  }

  it('looks the typed code up and refuses to submit an unknown one', async () => {
    const { server, model } = setup();
    server.answer('GET observation', unknown('EG078C', ['EG078B']));
    model.setForm({ ...model.form, experiment: 'eg078c', title: 'T' });
    await new Promise(r => setTimeout(r, 5));
    await flush();
    expect(server.callsTo('GET observation')[0].endPoint).toBe(
      'observation?experiment=EG078C'
    );
    expect(model.observation.kind).toBe('unknown');
    expect(await model.submitNotebook()).toBeNull();
    expect(model.submit).toEqual({
      kind: 'error',
      message: 'Unknown experiment EG078C — did you mean EG078B?',
      details: ''
    });
    expect(server.callsTo('POST submit')).toEqual([]);
    model.dispose();
  });

  it('shows the close codes when the service refuses a submission as unknown', async () => {
    const { server, model } = setup();
    server.answer('GET observation', new ResponseError(503, 'down', ''));
    server.answer('POST submit', unknown('EG078D', ['EG078B']));
    model.setForm({ ...model.form, experiment: 'EG078D', title: 'T' });
    await new Promise(r => setTimeout(r, 5));
    await flush();
    expect(model.observation.kind).toBe('unavailable');
    await expect(model.submitNotebook()).rejects.toThrow('No experiment');
    expect(model.observation).toMatchObject({
      kind: 'unknown',
      suggestions: ['EG078B']
    });
    model.dispose();
  });
});

describe('the search by source name and position', () => {
  let container: HTMLDivElement;
  let root: Root;

  beforeEach(() => {
    (globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;
    container = document.createElement('div');
    document.body.appendChild(container);
    root = createRoot(container);
  });

  afterEach(() => {
    act(() => root.unmount());
    container.remove();
  });

  const HIT: ISearchHit = {
    ...SUMMARY,
    snippet: '',
    observation: {
      targets: EG078B.targets,
      public_from: null,
      products: EG078B.products
    }
  };

  function props(overrides: Partial<ISearchProps> = {}): ISearchProps {
    return {
      search: {
        query: { target: '3C 345' },
        hits: [HIT],
        error: '',
        more: { cursor: null, loading: false }
      },
      trans,
      onSearch: () => undefined,
      onMore: () => undefined,
      onOpenCopy: () => undefined,
      loadVersions: async () => ({ versions: [], next_cursor: null }),
      canCompare: () => false,
      onCompare: () => undefined,
      onCopy: () => undefined,
      ...overrides
    };
  }

  function field(text: string): HTMLInputElement {
    const label = Array.from(container.querySelectorAll('label')).find(
      l => l.textContent === text
    )!;
    return document.getElementById(label.htmlFor) as HTMLInputElement;
  }

  function type(input: HTMLInputElement, value: string): void {
    const setter = Object.getOwnPropertyDescriptor(
      HTMLInputElement.prototype,
      'value'
    )!.set!;
    act(() => {
      setter.call(input, value);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
  }

  function submit(): void {
    act(() => field('Words').form!.requestSubmit());
  }

  it('sends the source name and the cone', () => {
    const onSearch = jest.fn();
    act(() => root.render(<Search {...props({ onSearch })} />));
    expect(field('Source').value).toBe('3C 345'); // the query shown
    type(field('RA'), '250.745');
    type(field('Dec'), '-39.81');
    type(field('Radius'), '0.5');
    submit();
    expect(onSearch).toHaveBeenCalledWith(
      expect.objectContaining({
        target: '3C 345',
        ra: '250.745',
        dec: '-39.81',
        radius: '0.5'
      })
    );
    expect(
      container.querySelector('.jp-evn-submit-position [role=alert]')
    ).toBeNull();
  });

  it.each([
    [['10', '', ''], 'needs RA, Dec and a radius'],
    [['', '5', '1'], 'needs RA, Dec and a radius'],
    [['360', '0', '1'], 'RA must be'],
    [['-1', '0', '1'], 'RA must be'],
    [['x', '0', '1'], 'RA must be'],
    [['10', '90.1', '1'], 'Dec must be'],
    [['10', '-91', '1'], 'Dec must be'],
    [['10', '0', '0'], 'radius must be'],
    [['10', '0', '10.5'], 'radius must be']
  ])(
    'refuses the cone %j inline and sends nothing',
    ([ra, dec, radius], text) => {
      const onSearch = jest.fn();
      act(() => root.render(<Search {...props({ onSearch })} />));
      type(field('RA'), ra);
      type(field('Dec'), dec);
      type(field('Radius'), radius);
      submit();
      expect(onSearch).not.toHaveBeenCalled();
      const alert = container.querySelector(
        '.jp-evn-submit-position [role=alert]'
      )!;
      expect(alert.textContent).toContain(text);
      expect(field('RA').getAttribute('aria-describedby')).toBe(alert.id);
    }
  );

  it('accepts a cone at its bounds', () => {
    for (const cone of [
      { ra: '0', dec: '-90', radius: '10' },
      { ra: '359.99', dec: '90', radius: '0.001' }
    ]) {
      expect(coneProblem(cone, trans)).toBe('');
    }
  });

  it('sends the new names, trimmed, and leaves empty ones out', () => {
    expect(
      searchParams({ target: ' 3C 345 ', ra: '1', dec: '2', radius: '', q: '' })
    ).toEqual({ target: '3C 345', ra: '1', dec: '2' });
  });

  it('names a hit’s targets and links to its data in a new tab', () => {
    act(() => root.render(<Search {...props()} />));
    const hit = container.querySelector('.jp-evn-submit-hit')!;
    expect(hit.textContent).toContain('Targets: J0927+3902, 3C 345');
    const data = Array.from(hit.querySelectorAll('a')).find(
      a => a.textContent === 'Data'
    )!;
    expect(data.getAttribute('href')).toBe('https://archive.test/EG078B.tgz');
    expect(data.getAttribute('target')).toBe('_blank');
    expect(data.getAttribute('rel')).toContain('noopener');
    expect(hit.querySelector('.jp-evn-submit-embargo')).toBeNull();
  });

  it('links no data that is not a web address, and shows no observation it lacks', () => {
    const evil = {
      ...HIT,
      observation: {
        ...HIT.observation!,
        public_from: '2999-01-01T00:00:00Z',
        products: [{ did: 'x', access_url: 'javascript:alert(1)' }]
      }
    };
    const plain = {
      ...SUMMARY,
      folder: 'demo/other',
      snippet: '',
      observation: null
    };
    act(() =>
      root.render(
        <Search
          {...props({
            search: { ...props().search, hits: [evil, plain] }
          })}
        />
      )
    );
    const [first, second] = Array.from(
      container.querySelectorAll('.jp-evn-submit-hit')
    );
    expect(first.querySelector('.jp-evn-submit-data')).toBeNull();
    expect(first.textContent).toContain('private until 2999-01-01');
    expect(second.querySelector('.jp-evn-submit-observation-meta')).toBeNull();
  });
});
