import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';
import { need, researcherToken, stack } from './env';

/**
 * Compare two archived versions with nbdime: two versions submitted straight
 * to the real notebook service (token by the test client's password grant),
 * then `evn-submit:compare` opens nbdime's diff in the main area.
 */

const suffix = String(Date.now() % 10000).padStart(4, '0');
const EXPERIMENT = `UC${suffix}D`;
const NAME = 'calibration';
const COMPARE = 'evn-submit:compare';

function code(id: string, source: string, output: string, count: number) {
  return {
    id,
    cell_type: 'code',
    metadata: {},
    execution_count: count,
    source,
    outputs: output
      ? [{ output_type: 'stream', name: 'stdout', text: output }]
      : []
  };
}

function markdown(id: string, source: string) {
  return { id, cell_type: 'markdown', metadata: {}, source };
}

function notebook(cells: object[]) {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3' },
      language_info: { name: 'python' }
    },
    cells
  };
}

/** Version 1, and version 2 with a changed cell (and output), one removed, one added. */
const VERSIONS = [
  notebook([
    markdown('intro', `# Amplitude calibration of ${EXPERIMENT}`),
    code('scale', "print('amplitude scale', 1.0)", 'amplitude scale 1.0\n', 1),
    code('flags', 'flagged = 0', '', 2)
  ]),
  notebook([
    markdown('intro', `# Amplitude calibration of ${EXPERIMENT}`),
    code(
      'scale',
      "print('amplitude scale', 1.25)",
      'amplitude scale 1.25\n',
      1
    ),
    markdown('closure', '## Closure phases')
  ])
];

async function submit(token: string, nb: object, message: string) {
  const r = await fetch(
    `${need('EVN_SERVICE_URL')}/api/v1/experiments/${EXPERIMENT}/notebooks`,
    {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': `ui-compare-${EXPERIMENT}-${message}`
      },
      body: JSON.stringify({
        notebook: nb,
        name: NAME,
        message,
        metadata: {
          title: `Amplitude calibration of ${EXPERIMENT}`,
          authors: [{ name: 'Demo Researcher' }],
          license: 'CC-BY-4.0'
        }
      })
    }
  );
  expect(r.status, await r.clone().text()).toBe(201);
  return r.json();
}

async function compare(page: IJupyterLabPageFixture, args: object) {
  await page.evaluate(
    ({ command, args }) =>
      window.jupyterapp.commands.execute(command, args).then(() => undefined),
    { command: COMPARE, args: args as any }
  );
}

/** The extension's script files the page has loaded so far. */
async function ourScripts(page: IJupyterLabPageFixture): Promise<string[]> {
  return page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map(e => e.name)
      .filter(n => n.includes('/extensions/jupyterlab-evn-submit/static/'))
  );
}

test.describe.configure({ mode: 'serial' });
test.use({ autoGoto: true, mockSettings: galata.DEFAULT_SETTINGS });

test.beforeAll(async () => {
  const token = await researcherToken();
  expect((await submit(token, VERSIONS[0], 'first')).version).toBe(1);
  expect((await submit(token, VERSIONS[1], 'second')).version).toBe(2);
});

test('compares the latest version with the one before, nbdime marking what changed', async ({
  page
}, testInfo) => {
  const before = await ourScripts(page);
  await compare(page, {
    experiment: EXPERIMENT,
    owner: stack.user,
    name: NAME
  });
  const view = page.locator('.jp-evn-submit-compare:visible');
  await expect(view.locator('.jp-Notebook-diff')).toBeVisible({
    timeout: 60000
  });
  // nbdime (a large module) came with the comparison, not at start.
  expect((await ourScripts(page)).length).toBeGreaterThan(before.length);

  await expect(view.locator('.jp-evn-submit-diff-banner')).toHaveText(
    'Version 1Version 2'
  );
  await expect(
    page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current')
  ).toContainText(`${NAME}: v1 ↔ v2`);
  // the removed cell, the added cell, the changed one (source and output)
  const deleted = view.locator('.jp-Cell-diff.jp-Diff-deleted');
  await expect(deleted).toHaveCount(1);
  await expect(deleted).toContainText('flagged = 0');
  const added = view.locator('.jp-Cell-diff.jp-Diff-added');
  await expect(added).toHaveCount(1);
  await expect(added).toContainText('Closure phases');
  const changed = view.locator('.jp-Cell-diff.jp-Diff-twoway');
  await expect(changed.first()).toContainText('1.25');
  await expect(changed.first()).toContainText('amplitude scale 1.0');
  await expect(view.locator('.jp-Cell-diff.jp-Diff-unchanged')).toHaveCount(1);

  const file = testInfo.outputPath('evn-compare-versions.png');
  await page
    .locator('.jp-evn-submit-compare:visible')
    .screenshot({ path: file });
  const dir = process.env.EVN_SCREENSHOTS_DIR;
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(file, path.join(dir, 'evn-compare-versions.png'));
  }
});

test('named versions the other way round: added and removed swap', async ({
  page
}) => {
  await compare(page, {
    experiment: EXPERIMENT,
    owner: stack.user,
    name: NAME,
    base: 2,
    remote: 1
  });
  const view = page.locator('.jp-evn-submit-compare:visible');
  await expect(view.locator('.jp-Notebook-diff')).toBeVisible({
    timeout: 60000
  });
  await expect(view.locator('.jp-evn-submit-diff-banner')).toHaveText(
    'Version 2Version 1'
  );
  await expect(view.locator('.jp-Cell-diff.jp-Diff-added')).toContainText(
    'flagged = 0'
  );
  await expect(view.locator('.jp-Cell-diff.jp-Diff-deleted')).toContainText(
    'Closure phases'
  );
});

test('a version that was never archived is said plainly', async ({ page }) => {
  await compare(page, {
    experiment: EXPERIMENT,
    owner: stack.user,
    name: NAME,
    base: 1,
    remote: 7
  });
  await expect(page.locator('.jp-MainAreaWidget-error:visible')).toBeVisible({
    timeout: 60000
  });
  await expect(
    page.locator('.Toastify__toast').filter({
      hasText: `Comparing versions of ${NAME} failed`
    })
  ).toBeVisible();
});
