// Static hosting recipes (issue 12), on the site `./build.sh dist` makes (tools/dist.mjs): served
// by a plain static server without any headers, the playground runs with threads off and says so
// and why, and every mode that needs no threads runs; served with the rules of its own `_headers`
// file (as Netlify or Cloudflare Pages would), the page is cross-origin isolated and threads run.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { makeDist } from '../../tools/dist.mjs';
import { onPage, openPage, runAndWait, startServer, timings, useBrowser } from './harness.mjs';

const env = useBrowser();
const dist = join(mkdtempSync(join(tmpdir(), 'dist-')), 'dist');
/** @type {{close: () => Promise<unknown>}[]} */
const servers = [];
before(() => makeDist(dist));
after(() => Promise.all(servers.map((s) => s.close())));

/** @param {{isolation?: boolean, headersFile?: string}} options */
async function serveDist(options) {
  const server = await startServer({ root: dist, ...options });
  servers.push(server);
  return server.url;
}

describe('the dist/ site on a static host', () => {
  test('without headers: threads off, said clearly, and everything else runs', async () => {
    const url = await serveDist({ isolation: false });
    // A first visit (a new browser context): no service worker has added headers yet.
    await onPage(
      () => openPage(env.browser, `${url}?topic=gil&limit=3000000`),
      async ({ page }) => {
        assert.equal(await page.evaluate(() => self.crossOriginIsolated), false);
        assert.equal(await page.textContent('#isolation'), 'Threads off: page not cross-origin isolated');
        assert.match((await page.getAttribute('#isolation', 'title')) ?? '', /server sends no Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers/);
        assert.match((await page.textContent('.notice.isolation')) ?? '', /Threads are unavailable here/);
        assert.match(await runAndWait(page), /^Finished/);
        const modes = await timings(page);
        assert.deepEqual([modes.single.status, modes.workers.status, modes.gil.status, modes.nogil.status], ['ok', 'ok', 'unavailable', 'unavailable']);
        await page.goto(`${url}?topic=async-fetch`);
        await page.waitForSelector('body[data-ready="true"]');
        assert.match(await runAndWait(page), /^Finished/);
      },
    );
  });

  test('with its _headers file: cross-origin isolated, threads on', async () => {
    const url = await serveDist({ isolation: false, headersFile: join(dist, '_headers') });
    await onPage(
      () => openPage(env.browser, `${url}?topic=gil&limit=3000000`),
      async ({ page }) => {
        assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
        assert.match((await page.textContent('#isolation')) ?? '', /^Threads on/);
        assert.match(await runAndWait(page), /^Finished/);
        const modes = await timings(page);
        for (const mode of ['single', 'gil', 'nogil', 'workers']) assert.equal(modes[mode].status, 'ok', mode);
      },
    );
  });
});
