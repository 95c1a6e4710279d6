import { expect, galata, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';
import { need, researcherToken, stack } from './env';

/**
 * Open from anywhere: a reader follows a link from a paper or the archive's
 * web page (`evn-submit/open?experiment&owner&name&version`), lands in
 * JupyterLab, is asked, and on Open gets a copy of the archived notebook in a
 * tab. The notebook is submitted straight to the real notebook service with a
 * token of the test-only password-grant client.
 */

const suffix = String(Date.now() % 10000).padStart(4, '0');
const EXPERIMENT = `OL${suffix}K`;
const NAME = 'calibration';
const HEADING = `Opened from a link: ${EXPERIMENT}`;

async function submit(): Promise<number> {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3' },
      language_info: { name: 'python' }
    },
    cells: [
      {
        id: 'intro',
        cell_type: 'markdown',
        metadata: {},
        source: `# ${HEADING}`
      }
    ]
  };
  const r = await fetch(
    `${need('EVN_SERVICE_URL')}/api/v1/experiments/${EXPERIMENT}/notebooks`,
    {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${await researcherToken()}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': `ui-open-link-${EXPERIMENT}`
      },
      body: JSON.stringify({
        notebook,
        name: NAME,
        message: 'for a link',
        metadata: {
          title: HEADING,
          authors: [{ name: 'Demo Researcher' }],
          license: 'CC-BY-4.0'
        }
      })
    }
  );
  expect(r.status, await r.clone().text()).toBe(201);
  return (await r.json()).version;
}

test.use({
  autoGoto: false,
  mockSettings: galata.DEFAULT_SETTINGS,
  // The app is ready when its splash is gone: the question is in front of the
  // Launcher, so Galata's default wait (the Launcher's tab active) never ends.
  waitForApplication: async ({}, use) => {
    await use(async page => {
      await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
    });
  }
});

test('a link asks, then opens a copy of the archived notebook in a tab', async ({
  page,
  baseURL
}, testInfo) => {
  const version = await submit();
  const query = new URLSearchParams({
    experiment: EXPERIMENT,
    owner: stack.user,
    name: NAME,
    version: String(version)
  });
  // the server's route (not under /lab/), as a link from a paper reaches it
  await page.goto(`${baseURL}/evn-submit/open?${query.toString()}`);

  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText(
    `Open a copy of ${HEADING} (${EXPERIMENT}, version ${version}) from the EVN archive?`,
    { timeout: 60000 }
  );
  // the address bar no longer names the notebook: a reload does not ask again
  expect(new URL(page.url()).searchParams.has('evn-open')).toBe(false);

  const file = testInfo.outputPath('evn-open-from-link.png');
  await dialog.locator('.jp-Dialog-content').screenshot({ path: file });
  const dir = process.env.EVN_SCREENSHOTS_DIR;
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(file, path.join(dir, 'evn-open-from-link.png'));
  }

  await dialog.getByRole('button', { name: 'Open' }).click();
  const tab = page.locator(
    '.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current'
  );
  await expect(tab).toContainText(`${NAME}-v${version}`, { timeout: 90000 });
  await expect(
    page.locator('.jp-NotebookPanel:visible .jp-MarkdownOutput').first()
  ).toContainText(HEADING);
});
