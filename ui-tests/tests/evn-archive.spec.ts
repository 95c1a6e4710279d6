import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';
import type { Page, TestInfo } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import { gitea, stack } from './env';

/**
 * What a researcher does, in Chromium, against the real Keycloak, Gitea and
 * notebook service: log in through Keycloak's login page in the popup, submit
 * from the notebook toolbar, follow the permalink to the commit in Gitea, open
 * a copy from a search of the Archive (and cite it), log out.
 *
 * The tests share the login (kept by the server extension), so they run in
 * order.
 */
test.describe.configure({ mode: 'serial' });

const PANEL = '#jp-evn-submit-panel';
const suffix = String(Date.now() % 10000).padStart(4, '0');
// Matches the service's experiment pattern: one fresh repository per run.
const EXPERIMENT = `UT${suffix}A`;
const TITLE = `Calibration of ${EXPERIMENT}`;
const MARKER = `unsaved-change-${Date.now()}`;

let permalink = '';

async function openPanel(page: IJupyterLabPageFixture): Promise<void> {
  const tab = page.locator('.jp-SideBar [data-id="jp-evn-submit-panel"]');
  if (!(await page.locator(PANEL).isVisible())) {
    await tab.click();
  }
  await expect(page.locator(PANEL)).toBeVisible();
}

async function logInInPopup(page: Page): Promise<void> {
  const popupPromise = page.waitForEvent('popup');
  await page.locator(`${PANEL} .jp-evn-submit-login-button`).click();
  const popup = await popupPromise;
  // Keycloak's real login page.
  await popup.locator('#username').fill(stack.user);
  await popup.locator('#password').fill(stack.password);
  const closed = popup.waitForEvent('close', { timeout: 60000 });
  await popup.locator('#kc-login').click();
  await closed;
}

test.use({ autoGoto: true, mockSettings: galata.DEFAULT_SETTINGS });

test('the sidebar shows the login state and offers both logins', async ({
  page
}) => {
  await openPanel(page);
  const panel = page.locator(PANEL);
  await expect(
    panel.getByRole('button', { name: 'Log in', exact: true })
  ).toBeVisible();
  await expect(
    panel.getByRole('button', { name: 'Use a code instead' })
  ).toBeVisible();
  await expect(
    panel.getByText('Submit notebook', { exact: true })
  ).toBeVisible();
  await expect(panel.getByText('Archive', { exact: true })).toBeVisible();
});

test('a blocked popup is explained and the code login is offered', async ({
  page
}) => {
  await openPanel(page);
  await page.evaluate(() => {
    window.open = () => null;
  });
  await page.locator(`${PANEL} .jp-evn-submit-login-button`).click();
  const alert = page.locator(`${PANEL} .jp-evn-submit-blocked`);
  await expect(alert).toContainText('blocked the login window');
  await alert.getByRole('button', { name: 'Log in with a code' }).click();
  // The real device authorization grant: Keycloak hands out a user code.
  const code = page.locator(`${PANEL} .jp-evn-submit-device-code`);
  await expect(code).toHaveText(/^[A-Z0-9-]{6,}$/);
  await expect(
    page.locator(`${PANEL} .jp-evn-submit-device a`)
  ).toHaveAttribute('href', /\/realms\/[^/]+\/device/);
  await page
    .locator(`${PANEL} .jp-evn-submit-device`)
    .getByRole('button', { name: 'Cancel' })
    .click();
  await expect(code).toHaveCount(0);
});

test('logs in through Keycloak in a popup, keeping the form', async ({
  page
}) => {
  await page.notebook.createNew('draft.ipynb');
  await openPanel(page);
  // Type into the form before logging in: it must survive the login.
  await page.locator('#root_title').fill('Typed before the login');
  await logInInPopup(page);
  await expect(page.locator(`${PANEL} .jp-evn-submit-user-name`)).toHaveText(
    'Demo Researcher'
  );
  await expect(
    page.locator(`${PANEL} .jp-evn-submit-user-username`)
  ).toHaveText(`(${stack.user})`);
  await expect(page.locator('#root_title')).toHaveValue(
    'Typed before the login'
  );
  // The logged-in researcher is prefilled as the first author.
  await expect(page.locator('#root_authors_0_name')).toHaveValue(
    'Demo Researcher'
  );
});

test('submits an unsaved notebook from the toolbar button and gets a permalink', async ({
  page
}) => {
  await page.notebook.createNew('calibration.ipynb');
  await page.notebook.setCell(0, 'markdown', `# ${MARKER}`);
  await page.notebook.runCell(0);
  // Not saved: the submit must save it first.
  await expect(page.locator('.jp-mod-current.jp-mod-dirty')).toHaveCount(1);

  await page
    .locator('.jp-NotebookPanel-toolbar [data-command="evn-submit:submit"]')
    .click();
  await expect(page.locator(PANEL)).toBeVisible();
  await expect(page.locator(`${PANEL} .jp-evn-submit-path`)).toContainText(
    'calibration.ipynb'
  );
  await expect(page.locator('#root_authors_0_name')).toHaveValue(
    'Demo Researcher'
  );
  await page.locator('#root_experiment').fill(EXPERIMENT.toLowerCase());
  await page.locator('#root_title').fill(TITLE);
  await page.locator('#root_description').fill('Fringe fitting and bandpass.');
  await page
    .locator('#root_output_policy')
    .selectOption({ label: 'Strip all outputs' });
  await page.locator('#root_message').fill('First version from the UI tests');
  // The size after the output policy, before anything is uploaded.
  await expect(page.locator(`${PANEL} .jp-evn-submit-size`)).toContainText(
    'Upload size:'
  );

  await page.locator(`${PANEL} .jp-evn-submit-submit`).click();
  const link = page.locator(`${PANEL} .jp-evn-submit-permalink`);
  await expect(link).toBeVisible({ timeout: 60000 });
  permalink = (await link.getAttribute('href')) ?? '';
  expect(
    permalink.startsWith(`${stack.giteaUrl}/${stack.giteaOrg}/${EXPERIMENT}/`)
  ).toBe(true);
  await expect(page.locator(`${PANEL} .jp-evn-submit-result`)).toContainText(
    'Archived as version 1.'
  );
  // The notification turned from in-progress into success, with the link.
  const toast = page
    .locator('.Toastify__toast')
    .filter({ hasText: 'archived as version 1' });
  await expect(toast).toBeVisible();
  await expect(
    toast.getByRole('button', { name: 'Open permalink' })
  ).toBeVisible();
  // Saved before it was sent.
  await expect(page.locator('.jp-mod-current.jp-mod-dirty')).toHaveCount(0);
});

test('the commit is in Gitea, authored by the researcher, with the unsaved change', async () => {
  expect(permalink).not.toBe('');
  const match = /\/src\/commit\/([0-9a-f]{40})\/(.+)$/.exec(permalink);
  expect(match).not.toBeNull();
  const [, sha, file] = match!;
  const repo = `/repos/${stack.giteaOrg}/${EXPERIMENT}`;
  const commit = await gitea(`${repo}/git/commits/${sha}`);
  expect(commit.status).toBe(200);
  const body = await commit.json();
  expect(body.commit.author.name).toBe('Demo Researcher');
  expect(body.commit.message).toContain('First version from the UI tests');
  const raw = await gitea(`${repo}/raw/${file}?ref=${sha}`);
  expect(raw.status).toBe(200);
  const notebook = JSON.parse(await raw.text());
  const sources = notebook.cells.map((c: any) =>
    Array.isArray(c.source) ? c.source.join('') : c.source
  );
  expect(sources.join('\n')).toContain(MARKER);
});

// My submissions is read from the service's index (one page, no Gitea call).
test('my submissions list the archived notebook', async ({ page }) => {
  await openPanel(page);
  const section = page.locator(`${PANEL} .jp-evn-submit-section-submissions`);
  if (!(await section.isVisible())) {
    await page.locator(PANEL).getByText('My submissions').click();
  }
  const item = section.getByRole('link', { name: TITLE });
  await expect(item).toBeVisible();
  await expect(section).toContainText(`${EXPERIMENT} · version 1`);
});

test('the panel in the light and the dark theme', async ({
  page
}, testInfo) => {
  await page.notebook.createNew('reduction.ipynb');
  await openPanel(page);
  await page.locator('#root_experiment').fill(EXPERIMENT);
  await page.locator('#root_title').fill(TITLE);
  await page.locator('#root_description').fill('Fringe fitting and bandpass.');
  await expect(page.locator(`${PANEL} .jp-evn-submit-size`)).toContainText(
    'Upload size:'
  );
  // Let the form have the room in the pictures.
  for (const title of ['My submissions', 'Archive']) {
    await page
      .locator(`${PANEL} .lm-AccordionPanel-title`, { hasText: title })
      .click();
  }
  const dir = process.env.EVN_SCREENSHOTS_DIR;
  const shoot = async (theme: string) => {
    const file = testInfo.outputPath(`evn-archive-panel-${theme}.png`);
    await page.locator(PANEL).screenshot({ path: file });
    if (dir) {
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(file, path.join(dir, `evn-archive-panel-${theme}.png`));
    }
  };
  const light = await page
    .locator(PANEL)
    .evaluate(e => getComputedStyle(e).backgroundColor);
  await shoot('light');
  await page.theme.setDarkTheme();
  const dark = await page
    .locator(PANEL)
    .evaluate(e => getComputedStyle(e).backgroundColor);
  // Only JupyterLab's variables: the panel follows the theme.
  expect(dark).not.toBe(light);
  await shoot('dark');
  await page.theme.setLightTheme();
});

test('finds the notebook by a word of its text, cites it and opens a copy', async ({
  page
}, testInfo) => {
  await openPanel(page);
  const archive = page.locator(`${PANEL} .jp-evn-submit-section-archive`);
  if (!(await archive.isVisible())) {
    await page.locator(PANEL).getByText('Archive', { exact: true }).click();
  }
  // A word of the notebook, narrowed to its experiment (typed in lower case).
  await archive.getByLabel('Words').fill('calibration');
  await archive
    .locator('.jp-evn-submit-browse-input')
    .fill(EXPERIMENT.toLowerCase());
  await archive.getByRole('button', { name: 'Search' }).click();
  const item = archive.locator('.jp-evn-submit-hit').filter({ hasText: TITLE });
  await expect(item).toContainText('Demo Researcher', { timeout: 30000 });
  await expect(item).toContainText('version 1');
  await expect(item.locator('mark').first()).toBeVisible();
  // Let the Archive section have the room in the pictures.
  for (const [title, section] of [
    ['Submit notebook', 'submit'],
    ['My submissions', 'submissions']
  ]) {
    if (
      await page
        .locator(`${PANEL} .jp-evn-submit-section-${section}`)
        .isVisible()
    ) {
      await page
        .locator(`${PANEL} .lm-AccordionPanel-title`, { hasText: title })
        .click();
    }
  }
  await shootPanel(page, testInfo, 'evn-archive-search');
  await item.getByRole('button', { name: 'Cite' }).click();
  const cite = page.locator('.jp-evn-submit-cite');
  await expect(cite).toContainText('@misc');
  await expect(cite).toContainText(`EVN experiment ${EXPERIMENT}`);
  await shootPanel(page, testInfo, 'evn-archive-cite');
  await page.keyboard.press('Escape');
  await item.getByRole('button', { name: 'Open a copy' }).click();
  // The copy opens in a new tab, saved under evn-archive/<experiment>/.
  const tab = page.locator(
    '.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current'
  );
  await expect(tab).toContainText('.ipynb', { timeout: 90000 });
  await expect(
    page.locator('.jp-NotebookPanel:visible .jp-MarkdownOutput').first()
  ).toContainText(MARKER);
  expect(
    await page.filebrowser.contents.fileExists(
      `evn-archive/${EXPERIMENT}/${(await tab.innerText()).trim()}`
    )
  ).toBe(true);
});

test('the commands are in the palette, the File menu and the file browser', async ({
  page
}) => {
  await page.notebook.createNew('listed.ipynb');
  await page.notebook.close(true);
  // The palette, by keyboard only.
  await page.keyboard.press('Control+Shift+C');
  const input = page.locator('.lm-CommandPalette-input:visible');
  await input.fill('EVN Archive');
  const labels = await page
    .locator('.lm-CommandPalette-itemLabel')
    .allTextContents();
  expect(labels).toEqual(
    expect.arrayContaining([
      'Submit Notebook to EVN Archive…',
      'Browse the EVN Archive',
      'Log Out of the EVN Archive'
    ])
  );
  await input.fill('Browse the EVN Archive');
  await page.keyboard.press('Enter');
  await expect(
    page.locator(`${PANEL} .jp-evn-submit-browse-input`)
  ).toBeVisible();

  await page.menu.open('File');
  await expect(
    page.locator('.lm-Menu-itemLabel', {
      hasText: 'Submit Notebook to EVN Archive…'
    })
  ).toBeVisible();
  await page.keyboard.press('Escape');

  await page.sidebar.openTab('filebrowser');
  await page
    .locator('.jp-DirListing-item[data-file-type="notebook"]', {
      hasText: 'listed.ipynb'
    })
    .click({ button: 'right' });
  await page
    .locator('.lm-Menu-itemLabel', { hasText: 'Submit to EVN Archive…' })
    .click();
  await expect(page.locator(`${PANEL} .jp-evn-submit-path`)).toContainText(
    'listed.ipynb'
  );
});

test('logs out', async ({ page, request }) => {
  await openPanel(page);
  await page.locator(`${PANEL} .jp-evn-submit-logout`).click();
  await expect(
    page.locator(PANEL).getByRole('button', { name: 'Log in', exact: true })
  ).toBeVisible();
  const status = await request.get('/evn-submit/status');
  expect((await status.json()).logged_in).toBe(false);
});

test('logs in with a code entered on another device', async ({
  page,
  context
}) => {
  await openPanel(page);
  await page.locator(`${PANEL} .jp-evn-submit-device-button`).click();
  const link = page.locator(`${PANEL} .jp-evn-submit-device a`);
  const href = await link.getAttribute('href');
  expect(href).toMatch(/\/device/);
  // The "other device": Keycloak's device page, with the code in the link.
  const other = await context.newPage();
  await other.goto(href!);
  await other.locator('#username').fill(stack.user);
  await other.locator('#password').fill(stack.password);
  await other.locator('#kc-login').click();
  await other.waitForLoadState();
  // Keycloak asks to grant the device access when the client needs consent.
  if (await other.locator('#kc-login').isVisible()) {
    await other.locator('#kc-login').click();
  }
  // The panel polls and notices the login.
  await expect(page.locator(`${PANEL} .jp-evn-submit-user-name`)).toHaveText(
    'Demo Researcher',
    { timeout: 60000 }
  );
  await page.locator(`${PANEL} .jp-evn-submit-logout`).click();
  await expect(
    page.locator(PANEL).getByRole('button', { name: 'Log in', exact: true })
  ).toBeVisible();
});

/** A picture of the panel for the docs (copied when EVN_SCREENSHOTS_DIR is set). */
async function shootPanel(
  page: IJupyterLabPageFixture,
  testInfo: TestInfo,
  name: string
): Promise<void> {
  const file = testInfo.outputPath(`${name}.png`);
  await page.locator(PANEL).screenshot({ path: file });
  const dir = process.env.EVN_SCREENSHOTS_DIR;
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(file, path.join(dir, `${name}.png`));
  }
}
