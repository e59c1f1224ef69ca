// The threads-and-synchronization topics in headless Chromium, beyond their defaults
// (catalog.test.mjs), driven through the page as a person would: edited parameters typed into the
// form, Stop, the engine's stall watchdog, and every topic of the chapter on a page without
// cross-origin isolation (where it must say why and never hang). Screenshots go to test-results/.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { onPage, openPage, readCatalog, runAndWait, runFromForm, timings, useBrowser } from './harness.mjs';

const env = useBrowser();

/** Edited parameters per topic (typed into the form), and what the run must then show. */
const EDITED = {
  'threads-basics': {
    values: { wait_ms: 400, numbers: 3, gap_ms: 50, time_scale: 0.5 },
    expect: { printer: /3 numbers printed/ },
  },
  race: { values: { threads: 4, withdrawals: 50, pause_ms: 0.5 }, expect: { safe: /^final 800 \(expected 800\)/ } },
  bank: { values: { threads: 4, transactions: 6, seed: 99, balance: 30 }, expect: { locked: /^final balance \d+/ } },
  counter: {
    values: { threads: 2, increments: 1000000 },
    expect: { mutex: /^2,000,000 of 2,000,000: exact/, atomic: /^2,000,000 of 2,000,000: exact/ },
  },
  'producer-consumer': {
    values: { queue_size: 1, items: 4, consumers: 2, time_scale: 0.2 },
    expect: { threads: /^8 items consumed/ },
  },
  primitives: {
    values: { threads: 6, permits: 3, hold_ms: 100 },
    expect: { semaphore: /at most [123] inside at once \(permits: 3\)/ },
  },
  deadlock: {
    values: { threads: 3, rounds: 2, time_scale: 0.3 },
    expect: { deadlock: /^deadlock detected/, ordered: /^6 transfers done/, trylock: /^6 transfers done/ },
  },
  'thread-pool': {
    values: { queries: 6, pool: 2, fail: 0, time_scale: 0.2 },
    expect: { completed: /^order \[/, map: /^order \[1, 2, 3, 4, 5, 6\]/ },
  },
};

describe('threads topics, cross-origin isolated page', () => {
  for (const [id, edits] of Object.entries(EDITED)) {
    test(`${id}: edited parameters typed into the form; waiting is on the timeline`, () =>
      onPage(
        () => openPage(env.browser, `${env.url}index.html?topic=${id}`),
        async ({ page }) => {
          // Time blocked on a lock, a queue, a condition or a join is drawn as waiting.
          const waitingDrawn = async () =>
            assert.ok(
              (await page.locator('.timeline-mode .timeline-chart[data-kinds~="wait"]').count()) > 0,
              'no waiting drawn',
            );
          await runFromForm(page, { ...edits, shot: `${id}-edited`, inspect: waitingDrawn });
        },
      ));
  }

  test('deadlock: Stop during the deadlock ends the run at once, and the next run works', () =>
    onPage(
      () => openPage(env.browser, `${env.url}index.html?topic=deadlock&watchdog_ms=10000&time_scale=1`),
      async ({ page }) => {
        const started = Date.now();
        const status = await runAndWait(page, { stopAfterMs: 800 });
        assert.match(status, /^Stopped/, status);
        assert.ok(Date.now() - started < 5000);
        await page.fill('#param-watchdog_ms', '300');
        await page.fill('#param-time_scale', '0.3');
        assert.match(await runAndWait(page), /^Finished/);
        const rows = await timings(page);
        assert.match(rows.deadlock.result, /^deadlock detected/);
        // The watchdog's table of who holds and who waits for which lock.
        const table = await page.$$eval('table', (tables) =>
          tables.map((t) => t.textContent ?? '').find((text) => text.includes('waits for')),
        );
        assert.ok(table?.includes('lock A') && table.includes('lock B'), table ?? 'no table names who waits for what');
      },
    ));

  test("deadlock: when the engine's watchdog is quicker than the topic's, it ends the stalled run, names what each thread waits for, and the next run works", () =>
    onPage(
      () => openPage(env.browser, `${env.url}index.html?topic=deadlock&watchdog_ms=10000&time_scale=0.3`),
      async ({ page }) => {
        await page.evaluate(() => sessionStorage.setItem('playground.stallMs', '1500'));
        const status = await runAndWait(page);
        assert.match(
          status,
          /^Failed: no progress for [\d.]+ s while every thread waited, so the engine ended the run: /,
          status,
        );
        assert.match(status, /thread 1 waits for lock [AB]/, status);
        assert.match(status, /thread 2 waits for lock [AB]/, status);
        await page.evaluate(() => sessionStorage.removeItem('playground.stallMs'));
        await page.fill('#param-watchdog_ms', '300');
        assert.match(await runAndWait(page), /^Finished/);
      },
    ));

  test('producer-consumer: the queue length is plotted', () =>
    onPage(
      () => openPage(env.browser, `${env.url}index.html?topic=producer-consumer&time_scale=0.1`),
      async ({ page }) => {
        assert.match(await runAndWait(page), /^Finished/);
        assert.equal(await page.locator('[data-chart="queue"]').count(), 1);
      },
    ));
});

test('every threads topic in the catalog, on a page without cross-origin isolation, says threads are unavailable and does not hang', async (t) => {
  const catalog = await onPage(
    () => openPage(env.browser, env.plainUrl),
    ({ page }) => readCatalog(page),
  );
  const chapter = catalog.filter((topic) => topic.chapter === 'Threads and synchronization');
  assert.ok(chapter.length > 0, 'the chapter has topics');
  for (const { id } of chapter) {
    await t.test(id, () =>
      onPage(
        () => openPage(env.browser, `${env.plainUrl}index.html?topic=${id}`),
        async ({ page }) => {
          const status = await runAndWait(page);
          // A topic whose every mode needs threads says so, and links to a page where it runs.
          if (/cannot run here/.test((await page.textContent('.notice.isolation')) ?? '')) {
            assert.match(status, /^Nothing could run here/, status);
            assert.match(
              (await page.getAttribute('#results a', 'href')) ?? '',
              new RegExp(`index\\.html\\?topic=${id}$`),
            );
            return;
          }
          assert.match(status, /^Finished/, status);
          const rows = await timings(page);
          for (const [mode, row] of Object.entries(rows)) {
            if (row.status === 'unavailable') assert.match(row.note, /cross-origin isolated/, mode);
            else assert.equal(row.status, 'ok', mode); // a mode that needs no threads still runs
          }
          assert.ok(Object.values(rows).some((row) => row.status === 'unavailable'));
        },
      ),
    );
  }
});
