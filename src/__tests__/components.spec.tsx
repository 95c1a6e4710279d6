import { nullTranslator } from '@jupyterlab/translation';
import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';
import { LoginStatus } from '../components/LoginStatus';
import { Submissions } from '../components/Submissions';
import { SubmitForm, ISubmitFormProps } from '../components/SubmitForm';
import { formatBytes } from '../components/format';
import { ISubmissionForm } from '../tokens';
import { DEMO, LOGGED_IN, LOGGED_OUT, RESULT, SUMMARY, flush } from './fakes';

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

function button(text: string): HTMLButtonElement {
  const found = Array.from(container.querySelectorAll('button')).find(
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

const noop = () => undefined;
const ALL_SHOWN = { cursor: null, loading: false };
/** The actions of a hit, doing nothing. */
const ACTIONS = {
  trans,
  onOpenCopy: noop,
  loadVersions: async () => ({ versions: [], next_cursor: null }),
  canCompare: () => false,
  onCompare: noop,
  onCopy: noop
};

describe('LoginStatus', () => {
  const props = {
    statusError: '',
    login: { kind: 'idle' } as const,
    trans,
    onLogin: noop,
    onDeviceLogin: noop,
    onCancel: noop,
    onLogout: noop
  };

  it('shows the researcher and logs out', () => {
    const onLogout = jest.fn();
    render(<LoginStatus {...props} status={LOGGED_IN} onLogout={onLogout} />);
    expect(
      container.querySelector('.jp-evn-submit-user-name')!.textContent
    ).toBe('Demo Researcher');
    expect(container.textContent).toContain('(demo)');
    click(button('Log out'));
    expect(onLogout).toHaveBeenCalledTimes(1);
  });

  it('offers the popup login and a code instead', () => {
    const onLogin = jest.fn();
    const onDeviceLogin = jest.fn();
    render(
      <LoginStatus
        {...props}
        status={LOGGED_OUT}
        onLogin={onLogin}
        onDeviceLogin={onDeviceLogin}
      />
    );
    click(button('Log in'));
    click(button('Use a code instead'));
    expect(onLogin).toHaveBeenCalledTimes(1);
    expect(onDeviceLogin).toHaveBeenCalledTimes(1);
  });

  it('says why the researcher was logged out, above the log-in button', () => {
    const message = 'Your login expired. Log in again.';
    render(<LoginStatus {...props} status={{ ...LOGGED_OUT, message }} />);
    const notice = container.querySelector('.jp-evn-submit-logged-out');
    expect(notice!.textContent).toBe(message);
    const login = button('Log in');
    expect(
      notice!.compareDocumentPosition(login) & Node.DOCUMENT_POSITION_FOLLOWING
    ).toBeTruthy();
  });

  it('shows no logged-out notice without a message or when logged in', () => {
    render(
      <LoginStatus {...props} status={{ ...LOGGED_OUT, message: null }} />
    );
    expect(container.querySelector('.jp-evn-submit-logged-out')).toBeNull();
    render(
      <LoginStatus {...props} status={{ ...LOGGED_IN, message: 'stale' }} />
    );
    expect(container.textContent).not.toContain('stale');
  });

  it('explains a blocked popup and offers the code login', () => {
    const onDeviceLogin = jest.fn();
    render(
      <LoginStatus
        {...props}
        status={LOGGED_OUT}
        login={{ kind: 'blocked' }}
        onDeviceLogin={onDeviceLogin}
      />
    );
    expect(container.querySelector('[role=alert]')!.textContent).toContain(
      'blocked the login window'
    );
    click(button('Log in with a code'));
    expect(onDeviceLogin).toHaveBeenCalledTimes(1);
  });

  it('shows the device code and where to enter it', () => {
    render(
      <LoginStatus
        {...props}
        status={LOGGED_OUT}
        login={{
          kind: 'device',
          device: {
            device_id: 'd',
            user_code: 'WXYZ-1234',
            verification_uri: 'http://127.0.0.1:8080/realms/evn/device',
            expires_in: 600,
            interval: 5
          }
        }}
      />
    );
    expect(
      container.querySelector('.jp-evn-submit-device-code')!.textContent
    ).toBe('WXYZ-1234');
    expect(
      container.querySelector('.jp-evn-submit-device a')!.getAttribute('href')
    ).toBe('http://127.0.0.1:8080/realms/evn/device');
  });
});

describe('SubmitForm', () => {
  const form: ISubmissionForm = {
    experiment: 'EG078B',
    title: 'Calibration of EG078B',
    description: '',
    authors: [{ name: DEMO.name }],
    license: 'CC-BY-4.0',
    keywords: [],
    output_policy: 'strip-large',
    output_budget_mb: 5,
    message: ''
  };
  const props: ISubmitFormProps = {
    notebookPath: 'work/calibration.ipynb',
    loggedIn: true,
    form,
    preview: null,
    previewError: '',
    submit: { kind: 'idle' },
    trans,
    onChange: noop,
    onSubmit: noop
  };

  it('renders the fields of the submission schema', () => {
    render(<SubmitForm {...props} />);
    const text = container.textContent!;
    for (const label of [
      'Experiment code',
      'Title',
      'Description',
      'Authors',
      'License',
      'Keywords',
      'Cell outputs',
      'Message'
    ]) {
      expect(text).toContain(label);
    }
    const inputs = Array.from(container.querySelectorAll('input')).map(
      i => i.value
    );
    expect(inputs).toContain('EG078B');
    expect(inputs).toContain('Calibration of EG078B');
    expect(inputs).toContain('Demo Researcher');
    expect(container.textContent).toContain('work/calibration.ipynb');
  });

  it('reports a typed value back', async () => {
    const onChange = jest.fn();
    render(<SubmitForm {...props} onChange={onChange} />);
    const title = Array.from(container.querySelectorAll('input')).find(
      i => i.value === 'Calibration of EG078B'
    )!;
    const setter = Object.getOwnPropertyDescriptor(
      HTMLInputElement.prototype,
      'value'
    )!.set!;
    act(() => {
      setter.call(title, 'Bandpass of EG078B');
      title.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(flush);
    expect(onChange).toHaveBeenCalled();
    expect(onChange.mock.calls.pop()[0].title).toBe('Bandpass of EG078B');
  });

  it('submits a valid form', () => {
    const onSubmit = jest.fn();
    render(<SubmitForm {...props} onSubmit={onSubmit} />);
    click(button('Submit'));
    expect(onSubmit).toHaveBeenCalledTimes(1);
  });

  it('does not submit an invalid form and says why', () => {
    const onSubmit = jest.fn();
    render(
      <SubmitForm
        {...props}
        form={{
          ...form,
          title: '',
          authors: [{ name: 'A', orcid: '1234' }]
        }}
        onSubmit={onSubmit}
      />
    );
    click(button('Submit'));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(container.textContent).toContain(
      'Please correct the marked fields.'
    );
    expect(container.textContent).toContain('is required');
    expect(container.textContent).toContain("'1234' is not an ORCID iD");
  });

  it('needs a login to submit', () => {
    render(<SubmitForm {...props} loggedIn={false} />);
    expect(button('Submit').disabled).toBe(true);
  });

  it('shows the upload size and refuses a notebook over the limit', () => {
    render(
      <SubmitForm
        {...props}
        preview={{
          size: 3 * 1024 * 1024,
          original_size: 12 * 1024 * 1024,
          stripped_outputs: 4,
          limit: 50 * 1024 * 1024
        }}
      />
    );
    expect(container.querySelector('.jp-evn-submit-size')!.textContent).toBe(
      'Upload size: 3.0 MB (notebook 12.0 MB, 4 outputs removed; limit 50.0 MB).'
    );
    expect(button('Submit').disabled).toBe(false);
    render(
      <SubmitForm
        {...props}
        preview={{
          size: 60,
          original_size: 60,
          stripped_outputs: 0,
          limit: 50
        }}
      />
    );
    expect(container.textContent).toContain('Too large');
    expect(button('Submit').disabled).toBe(true);
  });

  it('shows progress, then the permalink', () => {
    render(<SubmitForm {...props} submit={{ kind: 'uploading' }} />);
    expect(container.querySelector('progress')).not.toBeNull();
    expect(button('Submitting…').disabled).toBe(true);
    render(<SubmitForm {...props} submit={{ kind: 'done', result: RESULT }} />);
    const link = container.querySelector('a.jp-evn-submit-permalink')!;
    expect(link.getAttribute('href')).toBe(RESULT.permalink);
    expect(container.textContent).toContain('Archived as version 1.');
  });

  it('offers a retry after an error', () => {
    const onSubmit = jest.fn();
    render(
      <SubmitForm
        {...props}
        submit={{
          kind: 'error',
          message: 'The service did not answer.',
          details: ''
        }}
        onSubmit={onSubmit}
      />
    );
    expect(container.textContent).toContain('The service did not answer.');
    click(button('Retry'));
    expect(onSubmit).toHaveBeenCalledTimes(1);
  });

  it('asks for a notebook when none is chosen', () => {
    render(<SubmitForm {...props} notebookPath={null} />);
    expect(container.querySelector('input')).toBeNull();
    expect(container.textContent).toContain('Open a notebook');
  });
});

describe('Submissions', () => {
  it('lists the submissions with links and versions', () => {
    render(
      <Submissions
        submissions={[SUMMARY]}
        error=""
        more={ALL_SHOWN}
        loggedIn
        {...ACTIONS}
        onRefresh={noop}
        onMore={noop}
      />
    );
    const link = container.querySelector('a')!;
    expect(link.textContent).toBe('Calibration of EG078B');
    expect(link.getAttribute('href')).toBe(SUMMARY.permalink);
    expect(container.textContent).toContain('EG078B · version 2 · 2026-11-25');
    expect(container.querySelector('.jp-evn-submit-more')).toBeNull();
  });

  it('offers More while there is a next page, and says when it loads', () => {
    const onMore = jest.fn();
    const props = {
      submissions: [SUMMARY],
      error: '',
      loggedIn: true,
      ...ACTIONS,
      onRefresh: noop,
      onMore
    };
    render(<Submissions {...props} more={{ cursor: 'c2', loading: false }} />);
    const more = button('More');
    expect(more.type).toBe('button'); // a native button: in the tab order
    expect(more.getAttribute('aria-busy')).toBe('false');
    click(more);
    expect(onMore).toHaveBeenCalledTimes(1);

    render(<Submissions {...props} more={{ cursor: 'c2', loading: true }} />);
    const loading = button('Loading more…');
    expect(loading.getAttribute('aria-busy')).toBe('true');
    expect(loading.disabled).toBe(false); // keeps the keyboard focus
    click(loading);
    expect(onMore).toHaveBeenCalledTimes(1); // no second request meanwhile
  });

  it('keeps the list when a further page fails, and shows why', () => {
    render(
      <Submissions
        submissions={[SUMMARY]}
        error="The EVN notebook archive cannot be reached."
        more={{ cursor: 'c2', loading: false }}
        loggedIn
        {...ACTIONS}
        onRefresh={noop}
        onMore={noop}
      />
    );
    expect(container.querySelector('a')!.textContent).toBe(
      'Calibration of EG078B'
    );
    expect(container.querySelector('[role="alert"]')!.textContent).toBe(
      'The EVN notebook archive cannot be reached.'
    );
    expect(button('More')).toBeTruthy(); // try again
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
  });
});
