/**
 * Galata / Playwright configuration of the UI tests.
 *
 * The tests run in Debian's Chromium (Playwright's own browser download does
 * not work here) against a JupyterLab server they start themselves, which
 * takes the real stack (Keycloak, Gitea, the notebook service) from the
 * environment: eval "$(python3 -m devstack env)" first.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const port = process.env.EVN_UI_TESTS_PORT || '8888';
const url = `http://127.0.0.1:${port}`;

module.exports = {
  ...baseConfig,
  reporter: [[process.env.CI ? 'line' : 'list'], ['html', { open: 'never' }]],
  timeout: 120000,
  expect: { timeout: 20000 },
  workers: 1,
  retries: 0,
  use: {
    ...baseConfig.use,
    baseURL: url,
    viewport: { width: 1280, height: 800 },
    trace: 'off',
    video: 'off',
    launchOptions: {
      executablePath: process.env.EVN_CHROMIUM || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    }
  },
  webServer: {
    command: 'jlpm start',
    url: `${url}/lab`,
    timeout: 120 * 1000,
    reuseExistingServer: !process.env.CI
  }
};
