// The Patterns chapter and the decision guide in headless Chromium, beyond their defaults
// (catalog.test.mjs): what actor's and task-queue's default runs must show (the crash and
// redelivery), the guide's links to topics, compare's sweep on a page without isolation, and every
// topic of the chapter answering the embed API from a course page on another origin.
// Screenshots go to test-results/.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  checks,
  onPage,
  openCoursePage,
  openPage,
  readCatalog,
  runAndWait,
  runFromForm,
  shoot,
  table,
  timings,
  useBrowser,
} from './harness.mjs';

const env = useBrowser();

/**
 * What a default run of a topic must show beyond passing its checks (those run in catalog.test.mjs).
 * @type {Record<string, (page: import('playwright-core').Page, rows: Awaited<ReturnType<typeof timings>>) => Promise<void>>}
 */
const SPECIAL = {
  actor: async (_page, rows) => {
    assert.match(rows['stop-flag'].result, /^1 of 3 printed, 2 lost/);
    assert.match(rows['poison-pill'].result, /^3 of 3 printed, 0 lost/);
    assert.match(rows.bank.result, /^balance \d+ after 32 operations/);
  },
  'task-queue': async (page, rows) => {
    assert.match(rows.queue.result, /^11 of 11 tasks succeeded/);
    assert.match(rows.queue.note, /\(1 redelivered after a crash\)/);
    const backend = await table(page, 'Result backend (get())');
    assert.equal(backend?.length, 11);
    // The timeline as a table names the crash and the wait for the visibility timeout.
    await page.click('.spans-table summary');
    await page.waitForSelector('.spans-table tbody tr'); // built on the details' toggle event
    while (await page.isVisible('.spans-table .show-more')) await page.click('.spans-table .show-more');
    const spans = await page.$$eval('.spans-table td', (cells) => cells.map((c) => c.textContent ?? '').join('\n'));
    assert.match(spans, /worker \d died: crashed: terminated/);
    assert.match(spans, /no ack: invisible until the visibility timeout/);
    assert.match(spans, /retry countdown/);
  },
  decide: async (page) => {
    const links = await page.$$eval('.topic-links a', (as) => as.map((a) => a.getAttribute('href')));
    assert.ok(links.includes('?topic=mixed'), JSON.stringify(links));
    await page.click('.topic-links a[href="?topic=mixed"]');
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(() => location.search.includes('topic=mixed'));
  },
};

for (const [id, inspect] of Object.entries(SPECIAL)) {
  test(`${id}: what its default run shows`, () =>
    onPage(
      () => openPage(env.browser, `${env.url}index.html?topic=${id}`),
      async ({ page }) => inspect(page, await runFromForm(page, { shot: `patterns-${id}` })),
    ));
}

test('compare on a page without isolation: thread modes say why, the sweep plots the others', () =>
  onPage(
    () => openPage(env.browser, `${env.plainUrl}index.html?topic=compare&tasks=4&cpu_ms=10&wait_ms=20&sweep=3`),
    async ({ page }) => {
      await runFromForm(page, { shot: 'patterns-compare-sweep' });
      const rows = await timings(page);
      assert.equal(rows.threads.status, 'unavailable');
      assert.equal(rows.gil.status, 'unavailable');
      for (const mode of ['sequential', 'workers', 'async', 'async-pool']) assert.equal(rows[mode].status, 'ok', mode);
      const sweep = await page.$$eval('section.result-table h3', (hs) =>
        hs.map((h) => h.textContent ?? '').find((t) => t.startsWith('Sweep')),
      );
      assert.ok(sweep, 'a sweep table');
      assert.ok(await page.$('.chart, canvas'), 'a chart');
    },
  ));

test('every Patterns topic in the catalog answers the embed API with its defaults', async () => {
  const catalog = await onPage(
    () => openPage(env.browser, env.url),
    ({ page }) => readCatalog(page),
  );
  const topics = catalog.filter((topic) => topic.chapter === 'Patterns and scale').map((topic) => topic.id);
  assert.ok(topics.length > 0, 'the chapter has topics');
  await onPage(
    () =>
      openCoursePage(
        env.browser,
        `<!doctype html><title>A course page</title><link rel="icon" href="data:,">
<iframe id="demo" src="${env.url}embed.html?topic=${topics[0]}" width="1000" height="700" allow="cross-origin-isolated"></iframe>
<script>
  window.messages = [];
  addEventListener('message', (e) => window.messages.push(e.data));
  window.runDemo = (topic, requestId) => document.getElementById('demo').contentWindow.postMessage({ type: 'run', topic, params: {}, requestId }, '*');
</script>`,
      ),
    async ({ page }) => {
      await page.waitForFunction(() => window.messages.some((m) => m.type === 'ready'), null, { timeout: 30_000 });
      for (const [i, topic] of topics.entries()) {
        await page.evaluate(([t, n]) => window.runDemo(t, n), /** @type {const} */ ([topic, i + 1]));
        // The run's answer, not its 'started' and 'progress' events (which carry its requestId too).
        const answered = (/** @type {number} */ n) =>
          window.messages.find((m) => m.requestId === n && (m.type === 'result' || m.type === 'error'));
        await page.waitForFunction(answered, i + 1, { timeout: 90_000 });
        const answer = (await page.evaluate(answered, i + 1)) ?? assert.fail(`no answer about ${topic}`);
        assert.equal(answer.type, 'result', JSON.stringify(answer));
        assert.equal(answer.topic, topic);
        assert.equal(answer.status, 'ok');
        assert.ok(
          answer.checks.length > 0 && answer.checks.every((c) => c.ok),
          `${topic}: ${JSON.stringify(answer.checks)}`,
        );
      }
    },
  );
});

test('task-queue: a reload in the middle of a run keeps the queue; the next run finishes only what was left', () =>
  onPage(
    () => openPage(env.browser, `${env.url}index.html?topic=task-queue&tasks=6&workers=1&task_ms=400&kill=false`),
    async ({ page }) => {
      await page.click('#run');
      await page.waitForFunction(() => document.body.dataset.running === 'true', null, { timeout: 10_000 });
      await page.waitForTimeout(1800); // a few of the 7 tasks (400 ms each, one worker) have finished
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
      const status = await runAndWait(page);
      assert.match(status, /^Finished/, status);
      const log = (await page.textContent('#results')) ?? '';
      const resumed = log.match(/resumed the queue saved before the reload: (\d+) of 7 tasks had finished/);
      assert.ok(resumed, log.slice(0, 2000));
      const kept = Number(resumed[1]);
      assert.ok(kept >= 1 && kept <= 6, `${kept} tasks kept`);
      const rows = await timings(page);
      assert.match(rows.queue.result, /^7 of 7 tasks succeeded/);
      const backend = await table(page, 'Result backend (get())');
      assert.equal(backend?.filter((row) => row.includes('before the reload')).length, kept, JSON.stringify(backend));
      for (const check of await checks(page)) assert.ok(check.ok, check.text);
      await shoot(page, 'patterns-task-queue-resumed');
      // That queue finished: the next run is a new one.
      await runAndWait(page);
      assert.doesNotMatch((await page.textContent('#results')) ?? '', /resumed the queue/);
    },
  ));
