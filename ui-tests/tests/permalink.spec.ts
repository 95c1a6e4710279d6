import { expect, test } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import { need, researcherToken, stack } from './env';

/**
 * A researcher following a permalink sees the notebook, not its JSON: Gitea
 * renders .ipynb files with nbconvert (devstack's app.ini, [markup.jupyter])
 * inside a sandboxed iframe. The notebook is submitted straight to the real
 * notebook service with a token of the test-only password-grant client; no
 * JupyterLab page is needed.
 */

// A 16 x 8 red PNG: its natural width shows that the browser decoded it.
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAABAAAAAICAIAAAB/FOjAAAAAE0lEQVR42mM4oaFBEmIY1UALDQCHzYwBoXg0cQAAAABJRU5ErkJggg==';
const suffix = String(Date.now() % 10000).padStart(4, '0');
const EXPERIMENT = `PL${suffix}A`;
const HEADING = `Bandpass of ${EXPERIMENT}`;

async function submit(): Promise<string> {
  const notebook = {
    cells: [
      {
        cell_type: 'markdown',
        id: 'heading',
        metadata: {},
        source: `# ${HEADING}\n\nSolutions per antenna.`
      },
      {
        cell_type: 'code',
        execution_count: 1,
        id: 'plot',
        metadata: {},
        source: 'plot_bandpass()',
        outputs: [
          {
            output_type: 'display_data',
            data: { 'image/png': PNG, 'text/plain': '<Figure size 16x8>' },
            metadata: {}
          }
        ]
      }
    ],
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      }
    },
    nbformat: 4,
    nbformat_minor: 5
  };
  const response = await fetch(
    `${need('EVN_SERVICE_URL')}/api/v1/experiments/${EXPERIMENT}/notebooks`,
    {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${await researcherToken()}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': `permalink-${Date.now()}`
      },
      body: JSON.stringify({
        notebook,
        metadata: {
          title: HEADING,
          description: 'A rendered permalink.',
          authors: [{ name: 'Demo Researcher' }],
          license: 'CC-BY-4.0'
        }
      })
    }
  );
  expect(response.status).toBe(201);
  return (await response.json()).permalink;
}

test('a permalink shows the notebook rendered: an HTML heading and a loaded image', async ({
  page
}, testInfo) => {
  const permalink = await submit();
  expect(permalink).toMatch(
    new RegExp(`/${stack.giteaOrg}/${EXPERIMENT}/src/commit/[0-9a-f]{40}/`)
  );
  await page.goto(permalink);

  const notebook = page.frameLocator('iframe.external-render-iframe');
  const firstHeading = notebook.locator('h1, h2, h3, h4, h5, h6').first();
  // nbconvert adds an anchor link (¶) after the heading's text.
  await expect(firstHeading).toHaveText(new RegExp(`^${HEADING}¶?$`));
  expect(await firstHeading.evaluate(h => h.tagName)).toBe('H1');

  const image = notebook.locator('img').first();
  await expect(image).toHaveAttribute('src', /^data:image\/png;base64,/);
  await expect
    .poll(() => image.evaluate(i => (i as HTMLImageElement).naturalWidth))
    .toBe(16);

  // The page itself shows no notebook JSON.
  await expect(page.getByText('"cell_type"')).toHaveCount(0);

  const file = testInfo.outputPath('permalink-rendered.png');
  await page.screenshot({ path: file });
  const dir = process.env.EVN_SCREENSHOTS_DIR;
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(file, path.join(dir, 'permalink-rendered.png'));
  }
});
