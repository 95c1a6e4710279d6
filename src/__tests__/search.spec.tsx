import { nullTranslator } from '@jupyterlab/translation';
import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';
import { bibtex, plainCitation } from '../citation';
import { Search, ISearchProps } from '../components/Search';
import { snippetParts } from '../components/Snippet';
import { Submissions } from '../components/Submissions';
import { setPortalUrl } from '../openlink';
import { LICENSES } from '../rules';
import { IArchiveSearch, ISearchHit, IVersion } from '../tokens';
import { SUMMARY, flush } from './fakes';

const trans = nullTranslator.load('jupyterlab_evn_submit');

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

function render(element: JSX.Element): void {
  act(() => root.render(element));
}

function button(text: string, within: ParentNode = container) {
  const found = Array.from(within.querySelectorAll('button')).find(
    b => b.textContent?.trim() === text
  );
  if (!found) {
    throw new Error(`no button "${text}" in ${container.innerHTML}`);
  }
  return found;
}

function click(element: HTMLElement): void {
  act(() => {
    element.dispatchEvent(new MouseEvent('click', { bubbles: true }));
  });
}

/** The form control a `<label>` with `text` is bound to (by `htmlFor`). */
function field(text: string): HTMLInputElement | HTMLSelectElement {
  const label = Array.from(container.querySelectorAll('label')).find(
    l => l.textContent === text
  );
  const control = label && document.getElementById(label.htmlFor);
  if (!control) {
    throw new Error(`no field labelled "${text}"`);
  }
  return control as HTMLInputElement | HTMLSelectElement;
}

/** Type into an input or choose in a select, as React sees it. */
function type(control: HTMLInputElement | HTMLSelectElement, value: string) {
  const proto = Object.getPrototypeOf(control);
  const setter = Object.getOwnPropertyDescriptor(proto, 'value')!.set!;
  act(() => {
    setter.call(control, value);
    const name = control instanceof HTMLSelectElement ? 'change' : 'input';
    control.dispatchEvent(new Event(name, { bubbles: true }));
  });
}

const noop = () => undefined;
const HIT: ISearchHit = {
  ...SUMMARY,
  authors: [{ name: 'Demo Researcher' }, { name: 'Second Author' }],
  snippet: 'the <mark>fringe</mark> fit &amp; the &lt;b&gt;bandpass&lt;/b&gt;'
};
const VERSIONS: IVersion[] = [
  {
    version: 2,
    commit: 'def456',
    date: '2026-11-25',
    message: 'redo',
    permalink: 'http://gitea/v2'
  },
  {
    version: 1,
    commit: 'abc123',
    date: '2026-11-24',
    message: 'first',
    permalink: 'http://gitea/v1'
  }
];

function searchState(state: Partial<IArchiveSearch>): IArchiveSearch {
  return {
    query: { q: 'fringe' },
    hits: [HIT],
    error: '',
    more: { cursor: null, loading: false },
    ...state
  };
}

function props(overrides: Partial<ISearchProps> = {}): ISearchProps {
  return {
    search: searchState({}),
    trans,
    onSearch: noop,
    onMore: noop,
    onOpenCopy: noop,
    loadVersions: async () => ({ versions: VERSIONS, next_cursor: null }),
    canCompare: () => true,
    onCompare: noop,
    onCopy: noop,
    ...overrides
  };
}

describe('the snippet', () => {
  it('reads only <mark> as markup and decodes the escaped text', () => {
    expect(snippetParts(HIT.snippet)).toEqual([
      { text: 'the ', mark: false },
      { text: 'fringe', mark: true },
      { text: ' fit & the <b>bandpass</b>', mark: false }
    ]);
  });

  it('renders text and <mark> elements only, whatever the snippet says', () => {
    const evil =
      '<mark>x</mark><img src=x onerror="alert(1)"><script>alert(2)</script>' +
      '&lt;a href="javascript:1"&gt;y&lt;/a&gt;<MARK>z</MARK>';
    render(
      <Search
        {...props({
          search: searchState({ hits: [{ ...HIT, snippet: evil }] })
        })}
      />
    );
    const snippet = container.querySelector('.jp-evn-submit-snippet')!;
    const tags = Array.from(snippet.querySelectorAll('*')).map(e => e.tagName);
    expect(tags).toEqual(['MARK', 'MARK']);
    expect(snippet.querySelectorAll('mark')[1].textContent).toBe('z');
    expect(snippet.textContent).toContain('<img src=x onerror="alert(1)">');
    expect(snippet.textContent).toContain('<a href="javascript:1">y</a>');
  });
});

describe('Search', () => {
  it('explains itself before the first search and sends the filters on Enter', () => {
    const onSearch = jest.fn();
    render(
      <Search
        {...props({
          search: searchState({ query: null, hits: null }),
          onSearch
        })}
      />
    );
    expect(container.textContent).toContain('An empty search lists every');
    expect(container.querySelector('.jp-evn-submit-hit')).toBeNull();
    type(field('Words'), 'fringe fitting');
    type(field('Experiment'), 'eg078b');
    type(field('Author'), 'Demo');
    type(field('Keyword'), 'vlbi');
    type(field('Licence'), 'CC0-1.0');
    const words = field('Words');
    act(() => {
      // Enter in a field submits its form (what the browser does).
      words.form!.requestSubmit();
    });
    expect(onSearch).toHaveBeenCalledWith({
      q: 'fringe fitting',
      experiment: 'eg078b',
      author: 'Demo',
      keyword: 'vlbi',
      license: 'CC0-1.0'
    });
  });

  it('offers the contract’s licences, and any', () => {
    render(<Search {...props()} />);
    const options = Array.from((field('Licence') as HTMLSelectElement).options);
    expect(options.map(o => o.value)).toEqual(['', ...LICENSES]);
    expect(options[0].textContent).toBe('Any licence');
  });

  it('shows a hit: title, authors, experiment, version, date, licence, snippet', () => {
    render(<Search {...props()} />);
    const hit = container.querySelector(
      '.jp-evn-submit-search .jp-evn-submit-hit'
    )!;
    const title = hit.querySelector('a')!;
    expect(title.textContent).toBe('Calibration of EG078B');
    expect(title.getAttribute('href')).toBe(SUMMARY.permalink);
    expect(hit.textContent).toContain('Demo Researcher, Second Author');
    expect(hit.textContent).toContain('EG078B · version 2 · 2026-11-25');
    expect(hit.textContent).toContain('Licence CC-BY-4.0');
    expect(hit.querySelector('mark')!.textContent).toBe('fringe');
    const view = Array.from(hit.querySelectorAll('a')).find(
      a => a.textContent === 'View in the archive'
    )!;
    expect(view.getAttribute('href')).toBe(SUMMARY.permalink);
    expect(view.getAttribute('target')).toBe('_blank');
  });

  it('says it is searching, then that nothing matched', () => {
    render(<Search {...props({ search: searchState({ hits: null }) })} />);
    expect(container.querySelector('[role=status]')!.textContent).toBe(
      'Searching…'
    );
    render(<Search {...props({ search: searchState({ hits: [] }) })} />);
    expect(
      container.querySelector('.jp-evn-submit-no-hits')!.textContent
    ).toContain('No archived notebook matches this search.');
    expect(container.querySelector('.jp-evn-submit-more')).toBeNull();
  });

  it('says why the search failed, and why a further page failed', () => {
    render(
      <Search
        {...props({
          search: searchState({
            hits: null,
            error: 'The archive cannot be reached.'
          })
        })}
      />
    );
    expect(container.querySelector('[role=alert]')!.textContent).toBe(
      'The search failed: The archive cannot be reached.'
    );
    expect(container.textContent).not.toContain('Searching…');
    render(
      <Search
        {...props({
          search: searchState({
            error: 'Timeout.',
            more: { cursor: 'c2', loading: false }
          })
        })}
      />
    );
    expect(container.querySelector('[role=alert]')!.textContent).toBe(
      'The next page failed: Timeout.'
    );
    expect(container.querySelector('.jp-evn-submit-hit')).not.toBeNull();
    expect(button('More')).toBeTruthy();
  });

  it('loads the next page with More', () => {
    const onMore = jest.fn();
    render(
      <Search
        {...props({
          search: searchState({ more: { cursor: 'c2', loading: false } }),
          onMore
        })}
      />
    );
    click(button('More'));
    expect(onMore).toHaveBeenCalledTimes(1);
  });

  it('opens a copy of the newest version', () => {
    const onOpenCopy = jest.fn();
    render(<Search {...props({ onOpenCopy })} />);
    click(button('Open a copy'));
    expect(onOpenCopy).toHaveBeenCalledWith(HIT);
  });

  it('lists the versions with their permalinks; opens and compares them', async () => {
    const onOpenCopy = jest.fn();
    const onCompare = jest.fn();
    render(<Search {...props({ onOpenCopy, onCompare })} />);
    const versions = button('Versions');
    click(versions);
    expect(versions.getAttribute('aria-expanded')).toBe('true');
    await act(flush);
    const links = Array.from(
      container.querySelectorAll('.jp-evn-submit-versions a')
    );
    expect(links.map(a => [a.textContent, a.getAttribute('href')])).toEqual([
      ['View version 2', 'http://gitea/v2'],
      ['View version 1', 'http://gitea/v1']
    ]);
    click(button('Open version 1'));
    expect(onOpenCopy).toHaveBeenLastCalledWith(HIT, 1);
    expect((field('Compare') as HTMLSelectElement).value).toBe('1');
    expect((field('with') as HTMLSelectElement).value).toBe('2');
    click(button('Compare versions'));
    expect(onCompare).toHaveBeenCalledWith(HIT, 1, 2);
  });

  it('adds the next page of versions with More', async () => {
    const loadVersions = jest.fn(
      async (_item: unknown, cursor: string | null) =>
        cursor === null
          ? { versions: [VERSIONS[0]], next_cursor: 'v2' }
          : { versions: [VERSIONS[1]], next_cursor: null }
    );
    render(<Search {...props({ loadVersions })} />);
    click(button('Versions'));
    await act(flush);
    expect(container.textContent).not.toContain('Open version 1');
    const versions = container.querySelector('.jp-evn-submit-versions')!;
    click(button('More', versions));
    await act(flush);
    expect(loadVersions.mock.calls.map(c => c[1])).toEqual([null, 'v2']);
    expect(container.textContent).toContain('Open version 2');
    expect(container.textContent).toContain('Open version 1');
    expect(versions.querySelector('.jp-evn-submit-more')).toBeNull();
  });

  it('offers no comparison without the compare command', async () => {
    render(<Search {...props({ canCompare: () => false })} />);
    click(button('Versions'));
    await act(flush);
    expect(container.textContent).toContain('Open version 1');
    expect(
      container.querySelector('.jp-evn-submit-version-compare')
    ).toBeNull();
  });

  it('says why the versions could not be listed', async () => {
    const loadVersions = async () => {
      throw new Error('Service down');
    };
    render(<Search {...props({ loadVersions })} />);
    click(button('Versions'));
    await act(flush);
    expect(container.querySelector('[role=alert]')!.textContent).toBe(
      'The versions could not be listed: Service down'
    );
  });

  it('cites a notebook in BibTeX and plain text, with Copy buttons', () => {
    const onCopy = jest.fn();
    render(<Search {...props({ onCopy })} />);
    const cite = button('Cite');
    click(cite);
    const dialog = container.querySelector('.jp-evn-submit-cite')!;
    expect(dialog.getAttribute('role')).toBe('dialog');
    expect(document.activeElement).toBe(dialog);
    expect(dialog.querySelector('pre')!.textContent).toBe(bibtex(HIT));
    expect(dialog.querySelector('pre')!.textContent).toContain(
      'Calibration of EG078B'
    );
    expect(dialog.textContent).toContain(plainCitation(HIT));
    click(button('Copy BibTeX', dialog));
    expect(onCopy).toHaveBeenLastCalledWith(bibtex(HIT));
    expect(dialog.querySelector('[role=status]')!.textContent).toBe(
      'BibTeX copied to the clipboard.'
    );
    click(button('Copy Plain text', dialog));
    expect(onCopy).toHaveBeenLastCalledWith(plainCitation(HIT));
    act(() => {
      dialog.dispatchEvent(
        new KeyboardEvent('keydown', { key: 'Escape', bubbles: true })
      );
    });
    expect(container.querySelector('.jp-evn-submit-cite')).toBeNull();
    expect(document.activeElement).toBe(cite);
  });

  it('gives a link that opens a copy in JupyterLab, with a Copy button', () => {
    setPortalUrl('https://portal.example.org');
    const onCopy = jest.fn();
    render(<Search {...props({ onCopy })} />);
    click(button('Cite'));
    const dialog = container.querySelector('.jp-evn-submit-cite')!;
    const link = Array.from(dialog.querySelectorAll('a')).find(
      a => a.textContent === 'Open a copy in JupyterLab'
    )!;
    const expected =
      'https://portal.example.org/hub/user-redirect/evn-submit/open?' +
      `experiment=EG078B&owner=${HIT.owner}&name=${HIT.name}&version=${HIT.version}`;
    expect(link.getAttribute('href')).toBe(expected);
    click(button('Copy the link', dialog));
    expect(onCopy).toHaveBeenLastCalledWith(expected);
    setPortalUrl('');
  });

  it('names every action: native buttons and links with text', () => {
    render(<Search {...props()} />);
    const actions = container.querySelectorAll(
      '.jp-evn-submit-hit button, .jp-evn-submit-hit a'
    );
    expect(actions.length).toBeGreaterThanOrEqual(5);
    actions.forEach(a => expect(a.textContent!.trim()).not.toBe(''));
    container
      .querySelectorAll('.jp-evn-submit-hit button')
      .forEach(b => expect(b.getAttribute('type')).toBe('button'));
  });
});

describe('My submissions', () => {
  it('shows its notebooks as the search shows hits', () => {
    const onOpenCopy = jest.fn();
    render(
      <Submissions
        submissions={[SUMMARY]}
        error=""
        more={{ cursor: null, loading: false }}
        loggedIn
        {...props({ onOpenCopy })}
        onRefresh={noop}
      />
    );
    const hit = container.querySelector('.jp-evn-submit-hit')!;
    expect(hit.textContent).toContain('Licence CC-BY-4.0');
    expect(hit.querySelector('.jp-evn-submit-snippet')).toBeNull();
    click(button('Open a copy'));
    expect(onOpenCopy).toHaveBeenCalledWith(SUMMARY);
    expect(button('Cite')).toBeTruthy();
  });
});
