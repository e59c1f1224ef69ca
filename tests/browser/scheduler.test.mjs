// "Be the scheduler" (issue 28): the learner drives race to a lost update and deadlock to a
// deadlock by keyboard, "Find the bug" reports the native tests' counts and replays the shortest
// failing interleaving in the stepper, the scheduled modes run on a page without shared memory,
// and an embedding page hears the scheduler's events. Screenshots go to /tmp/scheduler-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { checks, onPage, openEmbedCourse, openPage, runAndWait, timings, useBrowser } from './harness.mjs';

const env = useBrowser();

/** @typedef {import('playwright-core').Page} Page */

/**
 * The panel once the engine has answered its first view.
 * @param {Page} page
 */
async function panel(page) {
  const root = page.locator('[data-panel="schedule"]');
  await root.locator('.schedule-thread').first().waitFor({ timeout: 60_000 });
  return root;
}

/**
 * Presses digit keys one at a time, each once the view after the one before has come back.
 * @param {Page} page
 * @param {string} keys
 */
async function pressThreads(page, keys) {
  for (const [i, key] of [...keys].entries()) {
    await page.keyboard.press(key);
    await page.waitForFunction(
      (n) =>
        document
          .querySelector('[data-panel="schedule"] .step-note')
          ?.textContent?.includes(`Every one of the ${n} steps`),
      i + 1,
    );
  }
}

test('race: by keyboard the learner makes a withdrawal vanish, undoes a step and reads why', () =>
  onPage(
    () => openPage(env.browser, `${env.url}index.html?topic=race`),
    async ({ page }) => {
      const root = await panel(page);
      assert.match((await root.locator('.schedule-goal').textContent()) ?? '', /Make a withdrawal vanish/);
      await root.locator('.schedule-thread').first().focus();
      // Thread 1 reads, thread 2 reads, thread 1 writes; then a step undone and redone.
      await pressThreads(page, '121');
      assert.match((await root.locator('.schedule-shared').textContent()) ?? '', /balance: 99/);
      assert.match(
        (await root.locator('.schedule-thread').nth(1).textContent()) ?? '',
        /write 99 to the balance · its copy: 100/,
      );
      await page.keyboard.press('Control+z');
      await page.waitForFunction(() =>
        document.querySelector('[data-panel="schedule"] .schedule-shared')?.textContent?.includes('balance: 100'),
      );
      await page.keyboard.press('1');
      await page.waitForFunction(() =>
        document.querySelector('[data-panel="schedule"] .schedule-shared')?.textContent?.includes('balance: 99'),
      );
      await page.keyboard.press('2');
      await root.locator('.schedule-reached').waitFor();
      const status = (await root.locator('.schedule-status').textContent()) ?? '';
      assert.match(
        status,
        /Goal reached\. thread 1 read 100, thread 2 read 100, thread 1 wrote 99, thread 2 wrote 99: one withdrawal vanished\./,
      );
      await root.screenshot({ path: '/tmp/scheduler-race.png' });
    },
  ));

test('race: "Find the bug" counts 6 interleavings, 4 losing an update, and replays the shortest; the lock fixes it', () =>
  onPage(
    () => openPage(env.browser, `${env.url}index.html?topic=race`),
    async ({ page }) => {
      const root = await panel(page);
      await root.locator('.schedule-find').click();
      await root.locator('.schedule-search strong').waitFor();
      assert.match(
        (await root.locator('.schedule-search').textContent()) ?? '',
        /^6 interleavings explored, 4 lose an update; the shortest failing one takes 4 steps\./,
      );
      await root.locator('.schedule-reached').waitFor();
      assert.match((await root.locator('.step-note').textContent()) ?? '', /Every one of the 4 steps was recorded/);
      await root.screenshot({ path: '/tmp/scheduler-race-search.png' });
      await root.locator('.schedule-variant').selectOption('safe');
      await page.waitForFunction(() =>
        document.querySelector('[data-panel="schedule"] .schedule-thread')?.textContent?.includes('take the lock'),
      );
      await root.locator('.schedule-find').click();
      await page.waitForFunction(() =>
        /none loses an update/.test(
          document.querySelector('[data-panel="schedule"] .schedule-search')?.textContent ?? '',
        ),
      );
      assert.match(
        (await root.locator('.schedule-search').textContent()) ?? '',
        /^2 interleavings explored, none loses an update\./,
      );
    },
  ));

test('deadlock: by keyboard each thread takes its first lock, and no thread can move', () =>
  onPage(
    () => openPage(env.browser, `${env.url}index.html?topic=deadlock`),
    async ({ page }) => {
      const root = await panel(page);
      await root.locator('.schedule-thread').first().focus();
      await page.keyboard.press('1');
      await page.waitForFunction(() =>
        document
          .querySelector('[data-panel="schedule"] .schedule-shared')
          ?.textContent?.includes('lock A: held by thread 1'),
      );
      // Arrow to thread 2 and move it with Enter.
      await root.locator('.schedule-thread').first().focus();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Enter');
      await root.locator('.schedule-reached').waitFor();
      assert.match(
        (await root.locator('.schedule-status').textContent()) ?? '',
        /each waits for a lock the next one holds/,
      );
      assert.equal(await root.locator('.schedule-thread:not([disabled])').count(), 0);
      assert.equal((await root.locator('.stepper .wait-graph, .stepper svg').count()) > 0, true);
      await root.screenshot({ path: '/tmp/scheduler-deadlock.png' });
      await root.locator('.schedule-variant').selectOption('ordered');
      await root.locator('.schedule-find').click();
      await page.waitForFunction(() =>
        /none deadlocks/.test(document.querySelector('[data-panel="schedule"] .schedule-search')?.textContent ?? ''),
      );
    },
  ));

test('without shared memory the scheduled modes run and pass their checks', () =>
  onPage(
    () => openPage(env.browser, `${env.plainUrl}index.html?topic=race&threads=4&withdrawals=20`),
    async ({ page }) => {
      assert.match(await runAndWait(page), /^Finished/);
      const rows = await timings(page);
      assert.match(rows['scheduled-unsafe'].result, /updates lost/);
      assert.match(rows['scheduled-safe'].result, /final -?\d+ \(expected -?\d+\): 0 updates lost/);
      const failed = (await checks(page)).filter((c) => !c.ok);
      assert.deepEqual(failed, []);
      assert.ok((await checks(page)).some((c) => c.text.includes('scheduled: the steps explain all')));
      assert.match(rows['scheduled-unsafe'].note, /ran on the scheduler engine/);
    },
  ));

test('without shared memory bank teaches: its transactions run on the scheduler with and without the lock, the books are checked, and the stepper counts steps, not milliseconds', () =>
  onPage(
    () => openPage(env.browser, `${env.plainUrl}index.html?topic=bank&threads=2&transactions=4&balance=50`),
    async ({ page }) => {
      assert.match(await runAndWait(page), /^Finished/);
      const rows = await timings(page);
      assert.match(rows['scheduled-locked'].result, /^final balance \d+/);
      assert.match(rows['scheduled-unlocked'].result, /^final balance -?\d+; the ledger says -?\d+/);
      assert.match(rows['scheduled-locked'].note, /ran on the scheduler engine/);
      const all = await checks(page);
      assert.deepEqual(
        all.filter((c) => !c.ok),
        [],
      );
      assert.ok(
        all.some((c) => c.text.includes('scheduled-unlocked: the books are off by')),
        JSON.stringify(all),
      );
      const details = page.locator('details.stepper-mode[data-mode="scheduled-unlocked"]');
      await details.locator('summary').click();
      const now = (await details.locator('.step-now').textContent()) ?? '';
      assert.match(now, /^Step 1 of [\d,]+ · step 1 · /);
      assert.doesNotMatch(now, /\bms\b/);
      await page.screenshot({ path: '/tmp/scheduler-bank.png', fullPage: true });
    },
  ));

test('an embedding page hears schedule-step, goal-reached and search-result', () =>
  onPage(
    () => openEmbedCourse(env.browser, `${env.plainUrl}embed.html?topic=race`),
    async ({ page }) => {
      const frame = page.frameLocator('#demo');
      await frame.locator('[data-panel="schedule"] .schedule-find').click();
      await page.waitForFunction(
        () => [...window.replies, ...window.events].some((m) => m.type === 'goal-reached'),
        null,
        { timeout: 60_000 },
      );
      const messages = await page.evaluate(() => [...window.replies, ...window.events]);
      const search = messages.find((m) => m.type === 'search-result');
      assert.deepEqual([search?.interleavings, search?.failing, search?.shortest], [6, 4, [0, 1, 0, 1]]);
      await frame.locator('[data-panel="schedule"] .schedule-restart').click();
      await frame.locator('[data-panel="schedule"] .schedule-thread').first().click();
      await page.waitForFunction(() => [...window.replies, ...window.events].some((m) => m.type === 'schedule-step'));
    },
  ));
