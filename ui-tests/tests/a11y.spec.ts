import AxeBuilder from '@axe-core/playwright';
import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';

/**
 * axe-core on the EVN archive panel, in the light and in the dark theme: no
 * serious or critical violation (unlabelled inputs, nameless buttons, too
 * little contrast …). Only the panel is checked: JupyterLab's own parts are
 * JupyterLab's business.
 */

const PANEL = '#jp-evn-submit-panel';

// Tall enough that every open section shows all of its content: axe takes
// what is scrolled out of a section as hidden, and its label as missing.
test.use({
  autoGoto: true,
  mockSettings: galata.DEFAULT_SETTINGS,
  viewport: { width: 1280, height: 2400 }
});

/** The panel with a notebook open (so the form is there), every section open. */
async function openPanel(page: IJupyterLabPageFixture): Promise<void> {
  await page.notebook.createNew('a11y.ipynb');
  await page.locator('.jp-SideBar [data-id="jp-evn-submit-panel"]').click();
  await expect(page.locator(PANEL)).toBeVisible();
  await expect(page.locator(`${PANEL} #root_title`)).toBeVisible();
  // one author and one keyword: the fields of array items are checked too
  const add = page.locator(PANEL).getByRole('button', { name: 'Add item' });
  await add.first().click();
  await add.nth(1).click();
  await expect(page.locator(`${PANEL} #root_authors_0_name`)).toBeVisible();
  const titles = page.locator(`${PANEL} .lm-AccordionPanel-title`);
  for (let i = 0; i < (await titles.count()); i++) {
    const title = titles.nth(i);
    if ((await title.getAttribute('aria-expanded')) === 'false') {
      await title.click();
    }
  }
}

async function seriousViolations(page: IJupyterLabPageFixture) {
  // JupyterLab's <body> is 0 px high with overflow: hidden (the shell is
  // positioned absolutely). The browser hands that overflow to the viewport,
  // so nothing is clipped, but axe takes the body as a clipping box and every
  // element in normal flow as hidden: then it skips the contrast checks and
  // cannot see visible labels. Give the body the viewport's height it has in
  // effect; nothing moves.
  await page.addStyleTag({ content: 'body { height: 100vh; }' });
  const results = await new AxeBuilder({ page }).include(PANEL).analyze();
  // the contrast of the panel's text was measured (not skipped as hidden)
  const contrast = results.passes.find(p => p.id === 'color-contrast');
  expect(contrast?.nodes.length ?? 0).toBeGreaterThan(10);
  return results.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map(n => n.target.join(' '))
    }));
}

for (const theme of ['light', 'dark'] as const) {
  test(`the panel has no serious accessibility violation in the ${theme} theme`, async ({
    page
  }) => {
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    } else {
      await page.theme.setLightTheme();
    }
    await openPanel(page);
    expect(await seriousViolations(page)).toEqual([]);
  });
}
