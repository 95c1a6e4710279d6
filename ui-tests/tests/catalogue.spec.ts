import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';
import type { TestInfo } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import { need, researcherToken } from './env';

/**
 * Every notebook tied to its observation (issue 15), in Chromium against the
 * real stack: the notebook service asks the real DaCHS (`devstack.dachs`,
 * where EG078B is a seeded experiment, long public). As the experiment code
 * is typed, the submit form shows what the catalogue knows of it, or the close
 * known codes; the Archive finds a notebook by its experiment's source name
 * and links the hit to the observation's data.
 */
test.describe.configure({ mode: 'serial' });
test.use({
  autoGoto: true,
  mockSettings: galata.DEFAULT_SETTINGS,
  // room for the search form and its hit in one picture
  viewport: { width: 1280, height: 1000 }
});

const PANEL = '#jp-evn-submit-panel';
const EXPERIMENT = 'EG078B';
const suffix = String(Date.now() % 100000).padStart(5, '0');
const TITLE = `Source search ${suffix}`;

interface IObservation {
  targets: { name: string }[];
  start: string;
  products: { access_url: string }[];
}

let observation: IObservation;

/** The catalogue's observation of EG078B, as the service answers it. */
async function eg078b(): Promise<IObservation> {
  const url = `${need('EVN_SERVICE_URL')}/api/v1/experiments/${EXPERIMENT}/observation`;
  const r = await fetch(url);
  expect(r.status, `${url}: ${await r.clone().text()}`).toBe(200);
  const body = await r.json();
  expect(body.catalogued, 'devstack runs without EVN_TAP_URL').toBe(true);
  return body;
}

/** Archive one notebook for EG078B through the service (the demo researcher). */
async function archive(): Promise<void> {
  const r = await fetch(
    `${need('EVN_SERVICE_URL')}/api/v1/experiments/${EXPERIMENT}/notebooks`,
    {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${await researcherToken()}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': `ui-catalogue-${suffix}`
      },
      body: JSON.stringify({
        notebook: {
          cells: [
            {
              cell_type: 'markdown',
              id: 'm',
              metadata: {},
              source: `# ${TITLE}`
            }
          ],
          metadata: {},
          nbformat: 4,
          nbformat_minor: 5
        },
        name: `source-search-${suffix}`,
        metadata: {
          title: TITLE,
          authors: [{ name: 'Demo Researcher' }],
          license: 'CC-BY-4.0'
        }
      })
    }
  );
  expect(r.status, await r.clone().text()).toBe(201);
}

async function openPanel(page: IJupyterLabPageFixture): Promise<void> {
  if (!(await page.locator(PANEL).isVisible())) {
    await page.locator('.jp-SideBar [data-id="jp-evn-submit-panel"]').click();
  }
  await expect(page.locator(PANEL)).toBeVisible();
}

/** Expand `keep` and collapse the other sections, for the pictures. */
async function only(
  page: IJupyterLabPageFixture,
  keep: 'submit' | 'submissions' | 'archive'
): Promise<void> {
  const titles = {
    submit: 'Submit notebook',
    submissions: 'My submissions',
    archive: 'Archive'
  };
  for (const [section, title] of Object.entries(titles)) {
    const visible = await page
      .locator(`${PANEL} .jp-evn-submit-section-${section}`)
      .isVisible();
    if (visible !== (section === keep)) {
      await page
        .locator(`${PANEL} .lm-AccordionPanel-title`, { hasText: title })
        .click();
    }
  }
}

test.beforeAll(async () => {
  observation = await eg078b();
  await archive();
});

test('the form shows the observation as the code is typed, and the close codes of an unknown one', async ({
  page
}, testInfo) => {
  await page.notebook.createNew('observation.ipynb');
  await openPanel(page);
  await only(page, 'submit');
  const code = page.locator('#root_experiment');
  const line = page.locator(`${PANEL} .jp-evn-submit-observation`);
  await expect(line).toHaveAttribute('aria-live', 'polite');
  await code.fill('');
  await code.pressSequentially('eg078b', { delay: 40 });
  const targets = observation.targets.map(t => t.name).join(', ');
  await expect(line).toHaveText(
    `Observed ${observation.start.slice(0, 10)} · targets ${targets} · public`
  );
  await page.locator('#root_title').fill(`Calibration of ${EXPERIMENT}`);
  await shootPanel(page, testInfo, 'evn-archive-observation');
  // JupyterLab's variables only: the line follows the theme.
  const light = await line.evaluate(e => getComputedStyle(e).color);
  await page.theme.setDarkTheme();
  expect(await line.evaluate(e => getComputedStyle(e).color)).not.toBe(light);
  await shootPanel(page, testInfo, 'evn-archive-observation-dark');
  await page.theme.setLightTheme();

  // A typo: the catalogue does not know it and offers the close codes.
  await code.fill('EG078C');
  await expect(line).toContainText('Unknown experiment EG078C — did you mean');
  const pick = line.getByRole('button', {
    name: `Use experiment ${EXPERIMENT}`
  });
  await pick.focus();
  await page.keyboard.press('Enter'); // usable by keyboard
  await expect(code).toHaveValue(EXPERIMENT);
  await expect(line).toContainText(`targets ${targets}`);
});

test('the Archive finds the notebook by source name and links to the data', async ({
  page
}, testInfo) => {
  await openPanel(page);
  await only(page, 'archive');
  const archive = page.locator(`${PANEL} .jp-evn-submit-section-archive`);
  // A position without a radius is refused in the panel, before any request.
  await archive.getByLabel('RA', { exact: true }).fill('250.7');
  await archive.getByLabel('Dec', { exact: true }).fill('39.8');
  await archive.getByRole('button', { name: 'Search' }).click();
  await expect(
    archive.locator('.jp-evn-submit-position [role=alert]')
  ).toContainText('needs RA, Dec and a radius');
  await archive.getByLabel('RA', { exact: true }).fill('');
  await archive.getByLabel('Dec', { exact: true }).fill('');

  // The source's name as a researcher may type it: case and spaces ignored.
  const source = observation.targets[0].name;
  await archive
    .getByLabel('Source', { exact: true })
    .fill(source.toLowerCase().replace(/ /g, ''));
  await archive.getByLabel('Words', { exact: true }).fill(suffix);
  await archive.getByRole('button', { name: 'Search' }).click();
  const hit = archive.locator('.jp-evn-submit-hit').filter({ hasText: TITLE });
  await expect(hit).toBeVisible({ timeout: 30000 });
  await expect(hit.locator('.jp-evn-submit-targets')).toContainText(source);
  const data = hit.getByRole('link', { name: 'Data' });
  await expect(data).toHaveAttribute(
    'href',
    observation.products[0].access_url
  );
  await expect(data).toHaveAttribute('target', '_blank');
  await expect(data).toHaveAttribute('rel', /noopener/);
  await shootPanel(page, testInfo, 'evn-archive-source-search');
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
