import { expect, test } from '@jupyterlab/galata';
import { need, researcherToken } from './env';

/**
 * The Archive's search answers a page at a time: with more hits than one page
 * holds (the service's default, 20), More brings the rest, and then goes away.
 */

const suffix = String(Date.now() % 10000).padStart(4, '0');
const EXPERIMENT = `PG${suffix}M`;
const NOTEBOOKS = 23;
const PANEL = '#jp-evn-submit-panel';

async function archive(count: number): Promise<void> {
  const token = await researcherToken();
  for (let i = 0; i < count; i++) {
    const r = await fetch(
      `${need('EVN_SERVICE_URL')}/api/v1/experiments/${EXPERIMENT}/notebooks`,
      {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          'Idempotency-Key': `ui-paging-${EXPERIMENT}-${i}`
        },
        body: JSON.stringify({
          notebook: {
            cells: [
              {
                cell_type: 'markdown',
                id: 'm',
                metadata: {},
                source: `# Page test ${i}`
              }
            ],
            metadata: {},
            nbformat: 4,
            nbformat_minor: 5
          },
          name: `page-${String(i).padStart(2, '0')}`,
          metadata: {
            title: `Page test ${i} of ${EXPERIMENT}`,
            authors: [{ name: 'Demo Researcher' }],
            license: 'CC-BY-4.0'
          }
        })
      }
    );
    expect(r.status, await r.clone().text()).toBe(201);
  }
}

test('the search shows a page, and More brings the next one', async ({
  page
}) => {
  await archive(NOTEBOOKS);
  if (!(await page.locator(PANEL).isVisible())) {
    await page.locator('.jp-SideBar [data-id="jp-evn-submit-panel"]').click();
  }
  const section = page.locator(`${PANEL} .jp-evn-submit-section-archive`);
  if (!(await section.isVisible())) {
    await page.locator(PANEL).getByText('Archive', { exact: true }).click();
  }
  await section.locator('.jp-evn-submit-browse-input').fill(EXPERIMENT);
  await section.getByRole('button', { name: 'Search' }).click();
  const hits = section.locator('.jp-evn-submit-hit');
  await expect(hits).toHaveCount(20, { timeout: 30000 });
  const more = section.locator('.jp-evn-submit-more');
  await more.focus();
  await page.keyboard.press('Enter'); // reachable and usable by keyboard
  await expect(hits).toHaveCount(NOTEBOOKS, { timeout: 30000 });
  await expect(more).toHaveCount(0);
});
