// Every topic in the catalog, as the home page lists it, in headless Chromium on a cross-origin
// isolated page: run with its defaults, every mode runs, every self-check passes, no console error,
// and a screenshot per topic in test-results/catalog/ (gitignored). A new topic is tested here
// without an entry in any test file; the chapter files test edited parameters and special cases.
// (firefox.test.mjs runs the same test in Firefox.)

import { test } from 'node:test';

import { EXPECTED_NETWORK_NOISE, openPage, runAndWait, shownRun, testCatalog, useBrowser } from './harness.mjs';

const env = useBrowser();

test('every topic in the catalog runs with its defaults, every check passes, no console error', (t) =>
  testCatalog(t, {
    url: env.url,
    open: (url) => openPage(env.browser, url),
    run: async (page) => {
      await runAndWait(page);
      return shownRun(page);
    },
    shots: true,
    // The simulated site's 404s and 500s, and the unreachable host, are logged as failed loads.
    ignore: EXPECTED_NETWORK_NOISE,
  }));
