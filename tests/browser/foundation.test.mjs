// End to end, as a learner would, beyond every topic's defaults (catalog.test.mjs): the timing
// claims cpu-map, gil and io-compare teach, URL state, bad input, Stop, the code view, the embed
// view in an iframe of another origin with its postMessage API, and the fallback of a page served
// without isolation headers. No console errors anywhere.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checks,
  gotoReady,
  holdsOnSomeRun,
  onPage,
  openCoursePage,
  openPage,
  runAndWait,
  shoot,
  textOf,
  timings,
  useBrowser,
} from './harness.mjs';

const env = useBrowser();

/** @param {string} id */
async function runTopic(id, query = '') {
  const session = await openPage(env.browser, `${env.url}?topic=${id}${query}`);
  const status = await runAndWait(session.page);
  return { ...session, status, modes: await timings(session.page), checks: await checks(session.page) };
}

test('cpu-map with defaults: exact sums everywhere, every worker lane used, a real speedup', () =>
  onPage(
    () => runTopic('cpu-map'),
    async ({ page, status, modes, checks: found }) => {
      assert.match(status, /Finished/);
      assert.deepEqual(Object.keys(modes), ['sequential', 'threads', 'rayon', 'workers']);
      // The pool's default size is this machine's cores (2 here).
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      for (const [id, mode] of Object.entries(modes)) {
        assert.equal(mode.status, 'ok', id);
        assert.equal(mode.lanes, id === 'sequential' ? 1 : cores, `${id} lanes`);
        assert.equal(mode.result, modes.sequential.result);
      }
      assert.ok(found.length > 0 && found.every((c) => c.ok), JSON.stringify(found));
      assert.ok(await page.isVisible('.timeline-chart'));
      assert.equal(await page.locator('.history tbody tr').count(), 1);
      await shoot(page, 'cpu-map');
      // The lesson, on the first click: every parallel mode clearly beats one core.
      await holdsOnSomeRun(page, (w) =>
        ['threads', 'rayon', 'workers']
          .filter((mode) => !(w[mode] * 1.3 < w.sequential))
          .map((mode) => `${mode} not faster`),
      );
    },
  ));

test("on a learner's 8 cores, the pool defaults are 8 and a run draws 8 lanes", () =>
  onPage(
    async () => {
      const session = await openPage(env.browser, '');
      // Before any script of the page: it sees 8 cores, whatever this machine has.
      await session.page.addInitScript(() =>
        Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => 8 }),
      );
      // Smaller tasks (16 x 25M numbers): 8 lanes on 2 real cores, yet each thread gets work.
      await gotoReady(session.page, `${env.url}?topic=cpu-map&numbers=25000000`);
      return session;
    },
    async ({ page }) => {
      assert.equal(await page.inputValue('#param-workers'), '8');
      assert.equal(await page.inputValue('#param-tasks'), '16');
      assert.match(await textOf(page, '#param-workers-help'), /Default 8 = your cores\./);
      assert.match(await textOf(page, '#param-tasks-help'), /Default 16 = 2 x your 8 cores\./);
      // The URL carries only what differs from these defaults.
      assert.doesNotMatch(await page.evaluate(() => location.search), /workers|tasks/);
      await runAndWait(page);
      const modes = await timings(page);
      for (const mode of ['threads', 'workers']) assert.equal(modes[mode].lanes, 8, `${mode} lanes`);
      // rayon's pool is the engine worker's, sized by its own navigator (the fake reaches pages only).
      assert.ok(modes.rayon.lanes >= 1 && modes.rayon.lanes <= 8, `rayon lanes ${modes.rayon.lanes}`);
      assert.ok(
        Object.values(modes).every((m) => m.status === 'ok' && m.result === modes.sequential.result),
        JSON.stringify(modes),
      );
      await shoot(page, 'cpu-map-8-cores');
      // image-resize's pool follows too; its form says 8 (its limit) too.
      await gotoReady(page, `${env.url}?topic=image-resize`);
      assert.equal(await page.inputValue('#param-workers'), '8');
      // A value the page ignores falls back to this machine's default, not to one for 2 cores.
      await gotoReady(page, `${env.url}?topic=cpu-map&workers=abc`);
      assert.match(await textOf(page, '.notice'), /Ignored workers=abc: .* Using the default instead\./);
      assert.equal(await page.inputValue('#param-workers'), '8');
    },
  ));

test('gil with defaults: GIL threads gain nothing, the other modes scale, one exact sum', () =>
  onPage(
    () => runTopic('gil'),
    async ({ page, status, checks: found }) => {
      assert.match(status, /Finished/);
      assert.ok(
        found.every((c) => c.ok),
        JSON.stringify(found),
      );
      assert.ok(
        (await page.locator('.timeline-mode .timeline-chart[data-kinds~="wait"]').count()) > 0,
        'waiting for the GIL is drawn',
      );
      await shoot(page, 'gil');
      // The lesson: GIL threads gain nothing, threads without it and isolated workers do.
      await holdsOnSomeRun(page, (w, found) => [
        ...found.filter((c) => !c.ok).map((c) => c.text),
        ...(w.gil > w.single * 0.8 ? [] : ['GIL threads beat single']),
        ...(w.nogil * 1.2 < w.gil ? [] : ['no GIL not faster than GIL']),
        ...(w.workers * 1.1 < w.gil ? [] : ['workers not faster than GIL']),
      ]);
    },
  ));

test('io-compare with defaults: waits add up one after another, overlap on threads (GIL or not) and async', () =>
  onPage(
    () => runTopic('io-compare'),
    async ({ page, status, modes }) => {
      assert.match(status, /Finished/);
      assert.match(modes.threads.note, /until the last thread had started/);
      assert.match(modes.gil.note, /the GIL changed hands \d+ times/);
      for (const mode of ['threads', 'gil', 'async']) assert.equal(modes[mode].lanes, 10, mode);
      await shoot(page, 'io-compare');
      await holdsOnSomeRun(page, (w, found) => [
        ...found.filter((c) => !c.ok).map((c) => c.text),
        ...(w.sequential >= 1000 ? [] : ['ten 100 ms waits in a row took under a second']),
        ...['threads', 'gil', 'async']
          .filter((mode) => !(w[mode] < w.sequential / 3))
          .map((mode) => `${mode} did not overlap the waits`),
      ]);
    },
  ));

test('edited parameters go into the URL, a reload restores them, and they are used', () =>
  onPage(
    () => openPage(env.browser, `${env.url}?topic=io-compare`),
    async ({ page }) => {
      await page.fill('#param-count', '4');
      await page.fill('#param-pool', '2');
      await page.waitForFunction(() => location.search.includes('count=4') && location.search.includes('pool=2'));
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      assert.equal(await page.inputValue('#param-count'), '4');
      assert.equal(await page.inputValue('#param-pool'), '2');
      await runAndWait(page);
      const modes = await timings(page);
      assert.equal(modes.async.lanes, 4);
      assert.equal(modes.threads.lanes, 2);
    },
  ));

test('an invalid value shows a message next to its field and nothing runs', () =>
  onPage(
    () => openPage(env.browser, `${env.url}?topic=cpu-map`),
    async ({ page }) => {
      await page.fill('#param-workers', 'many');
      await page.waitForFunction(() => document.querySelector('#param-workers-error')?.textContent);
      assert.equal(await page.textContent('#param-workers-error'), 'Workers (W) must be a whole number');
      await page.fill('#param-workers', '500');
      await page.waitForFunction(() =>
        document.querySelector('#param-workers-error')?.textContent?.includes('between'),
      );
      await page.click('#run');
      await page.waitForTimeout(300);
      assert.equal(await page.textContent('#results'), 'Press Run to start.');
      assert.equal(await page.getAttribute('#param-workers', 'aria-invalid'), 'true');
    },
  ));

test('invalid URL parameters fall back to defaults with a visible notice', async () => {
  await onPage(
    () => openPage(env.browser, `${env.url}?topic=gil&limit=abc&switch_ms=-4&bogus=1`),
    async ({ page }) => {
      const notices = await page.$$eval('.notice[role=alert]', (n) => n.map((x) => x.textContent));
      assert.equal(notices.length, 3, notices.join('\n'));
      assert.match(notices[0], /Ignored limit=abc/);
      assert.equal(await page.inputValue('#param-limit'), '1200000000');
    },
  );
  await onPage(
    () => openPage(env.browser, `${env.url}?topic=%3Cscript%3E`),
    async ({ page }) => {
      assert.match(await textOf(page, '.notice'), /There is no topic “<script>”/);
      assert.equal(await page.locator('script:not([src])').count(), 0);
    },
  );
});

test('the topic, its explanation and its form show before the wasm has loaded; Run works once it has', async () => {
  const context = await env.browser.newContext({ serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    /** @type {() => void} */
    let release = () => {};
    const held = new Promise((resolve) => (release = () => resolve(undefined)));
    // The wasm (the engine's, requested by its worker) is held back until the test lets it go.
    await context.route(/_bg\.wasm$/, async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`${env.url}?topic=gil&limit=abc`);
    await page.waitForSelector('.explanation p');
    assert.match(await textOf(page, 'h1'), /^The GIL/);
    assert.equal(await page.inputValue('#param-limit'), 'abc', "the address bar's value, not yet checked");
    assert.equal(await page.isDisabled('#run'), true);
    assert.match(await textOf(page, '#results'), /The engine is loading/);
    assert.equal(await page.getAttribute('body', 'data-ready'), null);
    await shoot(page, 'before-wasm');
    release();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    assert.equal(await page.isDisabled('#run'), false);
    assert.equal(await page.inputValue('#param-limit'), '1200000000');
    assert.match(await textOf(page, '.notice'), /Ignored limit=abc/);
    assert.match(await textOf(page, '#isolation'), /Threads on/);
    assert.match(await runAndWait(page), /^Finished/);
  } finally {
    await context.close();
  }
});

test('a topic list that fails to load once says so, and picking the topic again loads it', async () => {
  const context = await env.browser.newContext({ serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    let refused = 0;
    // The whole catalog (asked for when the learner leaves the first topic) fails the first time.
    await context.route(/\/pkg\/catalog\.json$/, (route) =>
      refused++ ? route.continue() : route.fulfill({ status: 503, body: 'busy' }),
    );
    await gotoReady(page, `${env.url}?topic=cpu-map`);
    await page.click('#topics a[data-topic="gil"]');
    await page.waitForSelector('#app .status.failed[role="alert"]');
    assert.match(await textOf(page, '#app .status.failed'), /could not load this topic \(HTTP 503\): pick it again/);
    await page.click('#topics a[data-topic="gil"]');
    await page.waitForSelector('.explanation p');
    assert.match(await textOf(page, 'h1'), /^The GIL/);
    assert.equal(refused, 2);
    assert.match(await runAndWait(page), /^Finished/);
  } finally {
    await context.close();
  }
});

// The threaded build on an isolated page, the plain build on a page without isolation.
for (const flavor of ['threads', 'plain']) {
  test(`the ${flavor} engine comes in parts: a page fetches its topic's part only, and a topic of another part starts that one`, async () => {
    const context = await env.browser.newContext();
    try {
      const page = await context.newPage();
      /** @type {Set<string>} the parts' wasm files of this build fetched by the page and its workers (the
       * service worker loads the plain network part for the simulated network, whatever the topic) */
      const parts = new Set();
      context.on('request', (request) => {
        if (request.serviceWorker()) return;
        const path = new URL(request.url()).pathname;
        if (path.endsWith('_bg.wasm') && path.split('/').at(-3) === flavor) parts.add(path.split('/').at(-2) ?? '');
      });
      await page.goto(`${flavor === 'threads' ? env.url : env.plainUrl}?topic=cpu-map&tasks=2&numbers=2000000`);
      await page.waitForSelector('body[data-ready="true"]');
      assert.deepEqual([...parts], ['foundations']);
      assert.match(await runAndWait(page), /^Finished/);
      /** @param {string} id */
      const shows = async (id) =>
        page.waitForFunction(
          (title) => document.querySelector('h1')?.textContent === title,
          await textOf(page, `#topics a[data-topic="${id}"]`),
        );
      await page.click('#topics a[data-topic="race"]');
      await shows('race');
      assert.match(await runAndWait(page), /^Finished/);
      assert.deepEqual([...parts].sort(), ['foundations', 'races']);
      await page.goBack();
      await shows('cpu-map');
      assert.match(await runAndWait(page), /^Finished/);
      assert.equal(await page.inputValue('#param-numbers'), '2000000');
    } finally {
      await context.close();
    }
  });
}

test('Stop ends a long run quickly and the next run works', () =>
  onPage(
    () => openPage(env.browser, `${env.url}?topic=cpu-map&tasks=8&numbers=200000000`),
    async ({ page }) => {
      await page.click('#run');
      await page.waitForSelector('progress');
      await page.waitForTimeout(700);
      const pressed = Date.now();
      await page.click('#stop');
      await page.waitForFunction(() => !document.body.dataset.running, null, { timeout: 5000 });
      const took = Date.now() - pressed;
      assert.ok(took < 600, `Stop took ${took} ms`);
      assert.match(await textOf(page, '#results .status'), /Stopped/);
      await page.fill('#param-tasks', '2');
      await page.fill('#param-numbers', '1000000');
      assert.match(await runAndWait(page), /Finished/);
    },
  ));

test('the embed view works in an iframe on another origin and answers postMessage', () =>
  onPage(
    () =>
      openCoursePage(
        env.browser,
        `<!doctype html><title>A course page</title><link rel="icon" href="data:,"><h1>Course</h1>
<iframe id="demo" src="${env.url}embed.html?topic=gil&limit=2000000" width="1000" height="700" allow="cross-origin-isolated"></iframe>
<script>
  window.messages = [];
  addEventListener('message', (e) => window.messages.push(e.data));
  window.runDemo = (params) => document.getElementById('demo').contentWindow.postMessage({ type: 'run', topic: 'gil', params, requestId: 7 }, '*');
</script>`,
      ),
    async ({ page }) => {
      await page.waitForFunction(() => window.messages.some((m) => m.type === 'ready'), null, { timeout: 30_000 });
      const frame = page.frame({ url: /embed\.html/ });
      assert.ok(frame);
      assert.equal(await frame.inputValue('#param-limit'), '2000000');
      await page.evaluate(() => window.runDemo({ limit: 3000000 }));
      await page.waitForFunction(() => window.messages.some((m) => m.type === 'result' || m.type === 'error'), null, {
        timeout: 60_000,
      });
      const result =
        (await page.evaluate(() => window.messages.find((m) => m.type === 'result'))) ??
        assert.fail('no result message');
      assert.equal(result.requestId, 7);
      assert.equal(result.topic, 'gil');
      assert.equal(result.params.limit, 3000000);
      assert.equal(result.modes.length, 4);
      assert.ok(result.lanes >= 2 && result.speedup > 0);
      assert.equal(result.values.sum, '8999995500000500000');
      await page.evaluate(() => window.runDemo({ limit: 'lots' }));
      await page.waitForFunction(() => window.messages.some((m) => m.type === 'error'), null, { timeout: 10_000 });
      const error =
        (await page.evaluate(() => window.messages.find((m) => m.type === 'error'))) ?? assert.fail('no error message');
      assert.equal(error.errors[0].field, 'limit');
      // The embed shows the rejected value next to its message.
      assert.equal(await frame.inputValue('#param-limit'), 'lots');
      assert.match(await textOf(frame, '#param-limit-error'), /whole number/);
      await shoot(page, 'embed');
    },
  ));

test('without isolation headers the page says why threads are off, and other modes still run', async () => {
  await onPage(
    () => openPage(env.browser, `${env.plainUrl}?topic=gil&limit=4000000`),
    async ({ page }) => {
      assert.match(await textOf(page, '#isolation'), /Threads off/);
      assert.match(await textOf(page, '.notice.isolation'), /cross-origin isolated/);
      assert.match(
        (await page.getAttribute('.notice.isolation a', 'href')) ?? '',
        /index\.html\?topic=gil&limit=4000000/,
      );
      assert.match(await runAndWait(page), /Finished/);
      const modes = await timings(page);
      assert.equal(modes.single.status, 'ok');
      assert.equal(modes.workers.status, 'ok');
      assert.equal(modes.gil.status, 'unavailable');
      assert.match(modes.gil.note, /not cross-origin isolated/);
      assert.ok((await checks(page)).every((c) => c.ok));
      await shoot(page, 'not-isolated');
    },
  );
  // A new context: in this one the service worker now adds the isolation headers itself.
  await onPage(
    () => openPage(env.browser, `${env.plainUrl}?topic=io-compare&count=3`),
    async ({ page }) => {
      await runAndWait(page);
      const io = await timings(page);
      assert.equal(io.threads.status, 'unavailable');
      assert.equal(io.async.status, 'ok');
    },
  );
});

test('code view: Copy and Download .py / .rs on each tab, and the pip line only where the Python needs packages', () =>
  onPage(
    () => openPage(env.browser, `${env.url}?topic=scraper`),
    async ({ page, context }) => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write']);
      await page.waitForSelector('#code-rust .code-tools');
      const [rs] = await Promise.all([
        page.waitForEvent('download'),
        page.locator('#code-rust').getByRole('button', { name: 'Download .rs' }).click(),
      ]);
      assert.equal(rs.suggestedFilename(), 'scraper.rs');
      assert.equal(await page.locator('#code-rust .pip').count(), 0);
      await page.click('#tab-python');
      const python = page.locator('#code-python');
      assert.equal(await python.locator('.pip code').textContent(), 'pip install aiohttp beautifulsoup4');
      const [py] = await Promise.all([
        page.waitForEvent('download'),
        python.getByRole('button', { name: 'Download .py' }).click(),
      ]);
      assert.equal(py.suggestedFilename(), 'scraper.py');
      await python.getByRole('button', { name: 'Copy' }).click();
      await python.locator('.code-status', { hasText: 'Copied.' }).waitFor();
      assert.match(
        await page.evaluate(() => navigator.clipboard.readText()),
        /^import asyncio[\s\S]*if __name__ == "__main__":/,
      );
      await page.goto(`${env.url}?topic=race`);
      await page.click('#tab-python');
      await page.waitForSelector('#code-python .code-tools');
      assert.equal(await page.locator('#code-python .pip').count(), 0, 'race needs no packages');
    },
  ));
