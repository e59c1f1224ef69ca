// Static hosting recipes (issue 12), on the site `./build.sh dist` makes (tools/dist.mjs): served
// by a plain static server without any headers, the playground runs with threads off and says so
// and why, and every mode that needs no threads runs; served with the rules of its own `_headers`
// file (as Netlify or Cloudflare Pages would), the page is cross-origin isolated and threads run.
// Issue 24: the headers a host sends (the CSP as a header, who may frame which page, nosniff,
// Referrer-Policy), what the service worker keeps, and the dev server's answer to a bad path.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { makeDist } from '../../tools/dist.mjs';
import { apache, CONTENT_SECURITY_POLICY, nginx } from '../../tools/headers.mjs';
import { onPage, openCoursePage, openPage, runAndWait, startServer, timings, useBrowser } from './harness.mjs';

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
        assert.match(
          (await page.getAttribute('#isolation', 'title')) ?? '',
          /server sends no Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers/,
        );
        assert.match((await page.textContent('.notice.isolation')) ?? '', /Threads are unavailable here/);
        assert.match(await runAndWait(page), /^Finished/);
        const modes = await timings(page);
        assert.deepEqual(
          [modes.single.status, modes.workers.status, modes.gil.status, modes.nogil.status],
          ['ok', 'ok', 'unavailable', 'unavailable'],
        );
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

/**
 * A GET with the path sent exactly as given (fetch() would clean it up first).
 * @param {string} base
 * @param {string} path
 * @returns {Promise<{status: number, headers: import('node:http').IncomingHttpHeaders}>}
 */
function rawGet(base, path) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the headers a host sends, from dist/_headers', () => {
  test('every file has the CSP, nosniff and Referrer-Policy; the embed may be framed anywhere, the other pages only by the playground', async () => {
    const url = await serveDist({ isolation: false, headersFile: join(dist, '_headers') });
    for (const path of [
      '',
      'index.html',
      'embed.html',
      'diagnostics.html',
      'engine/engine-worker.js',
      'sw.js',
      'pkg/plain/network/playground_bg.wasm',
    ]) {
      const { headers } = await rawGet(url, `/${path}`);
      const policy = String(headers['content-security-policy'] ?? '');
      assert.ok(policy.startsWith(CONTENT_SECURITY_POLICY), `${path}: ${policy}`);
      assert.equal(headers['x-content-type-options'], 'nosniff', path);
      assert.equal(headers['referrer-policy'], 'no-referrer', path);
      assert.equal(headers['cross-origin-opener-policy'], 'same-origin', path);
      const framing =
        path === 'embed.html'
          ? 'frame-ancestors *'
          : ['', 'index.html', 'diagnostics.html'].includes(path)
            ? "frame-ancestors 'self'"
            : null;
      if (framing) assert.ok(policy.endsWith(`, ${framing}`), `${path}: ${policy}`);
      else assert.ok(!policy.includes('frame-ancestors'), `${path}: ${policy}`);
    }
  });

  test('the README shows the nginx and Apache lines tools/headers.mjs makes', () => {
    const readme = readFileSync('README.md', 'utf8');
    assert.ok(
      readme.includes(`\`\`\`nginx\n${nginx()}\`\`\``),
      'README: nginx lines differ from node tools/headers.mjs nginx',
    );
    assert.ok(
      readme.includes(`\`\`\`apache\n${apache()}\`\`\``),
      'README: Apache lines differ from node tools/headers.mjs apache',
    );
  });

  test('a page on another origin can frame the embed, not the full page', async () => {
    const url = await serveDist({ isolation: false, headersFile: join(dist, '_headers') });
    await onPage(
      () =>
        openCoursePage(
          env.browser,
          `<!doctype html><meta charset="utf-8"><title>Elsewhere</title><link rel="icon" href="data:,">
<iframe id="embed" src="${url}embed.html?topic=gil" width="600" height="400"></iframe>
<iframe id="full" src="${url}index.html?topic=gil" width="600" height="400"></iframe>`,
        ),
      async ({ page }) => {
        const frame = async (/** @type {string} */ id) =>
          (await (await page.$(`#${id}`))?.contentFrame()) ?? assert.fail(`no frame ${id}`);
        await (await frame('embed')).waitForSelector('body[data-view="embed"]', { timeout: 30_000 });
        await page.waitForTimeout(1000);
        assert.equal(
          await (await frame('full')).$('body[data-view="full"]'),
          null,
          "the full page loaded inside another origin's frame",
        );
      },
      { ignore: /frame-ancestors|Refused to (display|frame)/ },
    );
  });

  test("the service worker caches only this build's listed files, under its version", async () => {
    const url = await serveDist({ isolation: false, headersFile: join(dist, '_headers') });
    /** @type {{version: string, files: string[]}} */
    const list = JSON.parse(readFileSync(join(dist, 'pkg', 'app-files.json'), 'utf8'));
    await onPage(
      () => openPage(env.browser, `${url}?topic=async-fetch`),
      async ({ page }) => {
        assert.match(await runAndWait(page), /^Finished/);
        await page.reload();
        await page.waitForSelector('body[data-ready="true"]');
        const cached = await page.evaluate(async () => {
          /** @type {Record<string, string[]>} */
          const all = {};
          for (const name of await caches.keys())
            all[name] = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
          return all;
        });
        assert.deepEqual(Object.keys(cached), [`playground-${list.version}`]);
        const paths = cached[`playground-${list.version}`];
        assert.ok(paths.length > 5, `only ${paths.length} files cached`);
        for (const path of paths)
          assert.ok(path === '/' || list.files.includes(path.slice(1)), `${path} is not one of the app's files`);
        assert.ok(!paths.some((p) => p.includes('/sim/')), 'a simulated answer was cached');
      },
    );
  });
});

describe('tools/serve.mjs', () => {
  test('answers a malformed path with 400 and keeps serving', async () => {
    const url = await serveDist({});
    for (const path of ['/%', '/%E0%A4%A', '/a%00b', '/%C0%AF..%C0%AF']) {
      assert.equal((await rawGet(url, path)).status, 400, path);
    }
    assert.equal((await rawGet(url, '/index.html')).status, 200);
    assert.equal((await rawGet(url, '/../../etc/passwd')).status, 404);
  });
});
