// The stepper (issue 14): after a run of race, counter and deadlock a learner steps to the first
// lost update (or the deadlock) by mouse and by keyboard and reads why it happened, the step is
// marked on the timeline, and an embedding page gets the recorded steps in values.interleaving.
// Screenshots go to /tmp/stepper-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { onPage, openPage, runAndWait, startServer, timings, useBrowser } from './harness.mjs';

const env = useBrowser();

/** @typedef {import('playwright-core').Page} Page */

/**
 * The stepper of `mode`: what it shows now.
 * @param {Page} page
 * @param {string} mode
 */
async function shown(page, mode) {
  const root = page.locator(`.stepper[data-mode="${mode}"]`);
  return {
    step: Number(await root.getAttribute('data-step')),
    now: (await root.locator('.step-now').textContent()) ?? '',
    explain: (await root.locator('.step-explain').textContent()) ?? '',
    finding: await root.locator('.step-explain.finding').count(),
  };
}

/**
 * Runs the topic until `found(rows)` says the run has what the test needs (a lucky run may lose
 * nothing), at most three times.
 * @param {Page} page
 * @param {(rows: Awaited<ReturnType<typeof timings>>) => boolean} found
 */
async function runUntil(page, found) {
  for (let i = 0; i < 3; i++) {
    assert.match(await runAndWait(page), /^Finished/);
    if (found(await timings(page))) return;
  }
  assert.fail('three runs without what the test needs');
}

/**
 * By mouse: "Next <finding>" shows the first finding, explained, and marks its step on the
 * timeline. By keyboard: Home, then N, reaches the same step; arrows step one at a time.
 * @param {Page} page
 * @param {string} mode
 * @param {string} finding what the stepper calls one ("lost update")
 * @param {RegExp} explanation
 */
async function stepToFirstFinding(page, mode, finding, explanation) {
  const root = page.locator(`.stepper[data-mode="${mode}"]`);
  await root.locator('.step-finding').click();
  const byMouse = await shown(page, mode);
  assert.equal(byMouse.finding, 1, `no ${finding} shown: ${JSON.stringify(byMouse)}`);
  assert.match(byMouse.explain, explanation);
  assert.match(byMouse.explain, new RegExp(`^${finding[0].toUpperCase()}${finding.slice(1)} 1 of \\d+: `, 'i'));
  // The current step's thread is ringed on its lane of the timeline.
  const thread = /· (thread \d+) /.exec(byMouse.now)?.[1];
  assert.ok(thread, byMouse.now);
  assert.equal(
    await page.locator(`.step-marker-ring[data-lane="${thread}"]`).count(),
    1,
    'step not marked on the timeline',
  );

  await root.locator('.step-slider').focus();
  await page.keyboard.press('Home');
  assert.equal((await shown(page, mode)).step, 0);
  await page.keyboard.press('n');
  const byKeys = await shown(page, mode);
  assert.equal(byKeys.step, byMouse.step, 'N reaches the same first finding');
  assert.equal(byKeys.explain, byMouse.explain);
  await page.keyboard.press('ArrowRight');
  assert.equal((await shown(page, mode)).step, byMouse.step + 1);
  await page.keyboard.press('ArrowLeft');
  assert.equal((await shown(page, mode)).step, byMouse.step);
  // The focused control shows a visible focus ring.
  const outline = await page.evaluate(
    () => getComputedStyle(/** @type {Element} */ (document.activeElement)).outlineStyle,
  );
  assert.notEqual(outline, 'none');
  return byMouse;
}

test('race: step to the first lost update by mouse and keyboard, and read why', () =>
  onPage(
    () => openPage(env.browser, `${env.url}index.html?topic=race&threads=4&withdrawals=40&pause_ms=0.5`),
    async ({ page }) => {
      await runUntil(page, (rows) => /[1-9]\d* updates lost/.test(rows.unsafe.result));
      const first = await stepToFirstFinding(
        page,
        'unsafe',
        'lost update',
        /thread \d+ read (\d+),.* wrote .*: (one withdrawal|[\d,]+ withdrawals) vanished\./,
      );
      // The sentence is about the step shown: the thread that wrote last is the current one.
      const [, writer, value] = /· (thread \d+) wrote (\d+)/.exec(first.now) ?? [];
      assert.ok(writer, first.now);
      assert.match(first.explain, new RegExp(`${writer} wrote ${value}: `));
      // Every step was recorded and the lost updates add up (a self-check of the run).
      assert.match(
        (await page.locator('.stepper[data-mode="unsafe"] .step-note').textContent()) ?? '',
        /Every one of the 320 steps was recorded/,
      );
      // Play moves on by itself, and Pause stops it.
      const play = page.locator('.stepper[data-mode="unsafe"] .step-play');
      await play.click();
      await page.waitForFunction(
        (at) => Number(document.querySelector('.stepper[data-mode="unsafe"]')?.getAttribute('data-step')) > at,
        first.step,
      );
      await play.click();
      assert.equal(await play.getAttribute('aria-pressed'), 'false');
      // The safe mode's steps are there too: locks taken and released, nothing lost.
      await page.locator('details[data-mode="safe"] > summary').click();
      assert.match((await page.locator('details[data-mode="safe"] > summary').textContent()) ?? '', /no lost update/);
      // Real threads: others may ask for the lock before the first one takes it, one step each.
      const safeSteps = [];
      for (let k = 0; k < 12 && !/takes the lock/.test(safeSteps.at(-1) ?? ''); k++) {
        await page.locator('.stepper[data-mode="safe"] .step-next').click();
        safeSteps.push((await shown(page, 'safe')).now);
      }
      assert.match(safeSteps.at(-1) ?? '', /takes the lock/, safeSteps.join('\n'));
      assert.ok(
        safeSteps.slice(0, -1).every((step) => /asks for the lock/.test(step)),
        safeSteps.join('\n'),
      );
      await page.locator('.stepper[data-mode="unsafe"] .step-finding').click();
      await page.locator('.stepper-section').scrollIntoViewIfNeeded();
      await page.locator('.timeline-section').screenshot({ path: '/tmp/stepper-race-timeline.png' });
      await page.locator('.stepper-section').screenshot({ path: '/tmp/stepper-race.png' });
    },
  ));

test('race: the what-if sweep plots lost updates by pause', () =>
  onPage(
    () =>
      openPage(
        env.browser,
        `${env.url}index.html?topic=race&threads=4&withdrawals=20&pause_ms=1&sweep=pause&record=false`,
      ),
    async ({ page }) => {
      assert.match(await runAndWait(page), /^Finished/);
      assert.equal(await page.locator('.chart-canvas[data-chart="what-if"]').count(), 1);
      const rows = await page.$$eval('section.result-table', (sections) => {
        const found = sections.find((s) => s.querySelector('h3')?.textContent?.startsWith('What if'));
        return found
          ? [...found.querySelectorAll('tbody tr')].map((tr) =>
              [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
            )
          : [];
      });
      assert.equal(rows.length, 7);
      assert.equal(rows[0][0], '0.00');
      assert.equal(rows[6][0], '1.00');
      // Recording off: no stepper.
      assert.equal(await page.locator('.stepper').count(), 0);
    },
  ));

test('counter: step to the first lost increment by mouse and keyboard', () =>
  onPage(
    () => openPage(env.browser, `${env.url}index.html?topic=counter`),
    async ({ page }) => {
      await runUntil(page, (rows) => !/: exact/.test(rows.unsync.result));
      const disabled = await page.locator('.stepper[data-mode="unsync"] .step-finding').isDisabled();
      assert.ok(!disabled, 'increments were lost but none was caught in the recorded steps');
      // Which write is caught first depends on the interleaving: one that erased increments, or
      // one that wrote over a stale value written back by another thread (as in race's native test).
      await stepToFirstFinding(
        page,
        'unsync',
        'lost update',
        /(one increment|[\d,]+ increments) vanished\.|jumped back/,
      );
      assert.match(
        (await page.locator('.stepper[data-mode="unsync"] .step-note').textContent()) ?? '',
        / of 16,000,000 steps recorded/,
      );
      await page.locator('.stepper-section').scrollIntoViewIfNeeded();
      await page.locator('.stepper-section').screenshot({ path: '/tmp/stepper-counter.png' });
    },
  ));

test('deadlock: step to the moment the circle closed, with the wait-for graph drawn', () =>
  onPage(
    () => openPage(env.browser, `${env.url}index.html?topic=deadlock&time_scale=0.3&watchdog_ms=400`),
    async ({ page }) => {
      await runUntil(page, (rows) => /^deadlock detected/.test(rows.deadlock.result));
      await stepToFirstFinding(
        page,
        'deadlock',
        'deadlock',
        /thread 1 holds lock A and waits for lock B|thread 2 holds lock B and waits for lock A/,
      );
      const graph = page.locator('.stepper[data-mode="deadlock"] svg.wait-graph');
      assert.equal(await graph.count(), 1);
      const label = (await graph.getAttribute('aria-label')) ?? '';
      assert.match(label, /thread 1 waits for lock B/);
      assert.match(label, /lock B held by thread 2/);
      assert.equal(await graph.locator('.wait-edge').count(), 4);
      await page.locator('.stepper-section').scrollIntoViewIfNeeded();
      await page.locator('.stepper-section').screenshot({ path: '/tmp/stepper-deadlock.png' });
    },
  ));

test("the embed's result carries the recorded steps in values.interleaving", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'course-'));
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><title>A course page</title><link rel="icon" href="data:,">
<iframe id="demo" src="${env.url}embed.html?topic=race" width="1000" height="700" allow="cross-origin-isolated"></iframe>
<script src="course.js"></script>`,
  );
  writeFileSync(
    join(dir, 'course.js'),
    `window.messages = [];
addEventListener('message', (e) => window.messages.push(e.data));
window.runDemo = () => document.getElementById('demo').contentWindow.postMessage({ type: 'run', topic: 'race', params: { threads: 3, withdrawals: 10, pause_ms: 0.5 }, requestId: 1 }, '*');`,
  );
  const course = await startServer({ root: dir, isolation: false });
  try {
    await onPage(
      async () => {
        const session = await openPage(env.browser, null);
        await session.page.goto(course.url);
        return session;
      },
      async ({ page }) => {
        await page.waitForFunction(() => window.messages.some((m) => m.type === 'ready'), null, { timeout: 30_000 });
        await page.evaluate(() => window.runDemo());
        await page.waitForFunction(() => window.messages.some((m) => m.type === 'result' || m.type === 'error'), null, {
          timeout: 60_000,
        });
        const result =
          (await page.evaluate(() => window.messages.find((m) => m.type === 'result' || m.type === 'error'))) ??
          assert.fail('no result message');
        assert.equal(result.type, 'result', JSON.stringify(result).slice(0, 300));
        const steps = result.values.interleaving;
        assert.ok(Array.isArray(steps), 'values.interleaving is a list');
        const unsafe = steps.filter((s) => s.mode === 'unsafe');
        // 3 threads x 10 withdrawals, each a read and a write, all recorded, in time order.
        assert.equal(unsafe.length, 60);
        for (const s of unsafe) {
          assert.match(s.thread, /^thread [123]$/);
          assert.ok(['read', 'write'].includes(s.op), s.op);
          assert.equal(typeof s.value, 'number');
          assert.equal(typeof s.t, 'number');
        }
        assert.ok(unsafe.every((s, i) => i === 0 || s.t >= unsafe[i - 1].t - 0.011));
        // The final balance is the value of some write; the lost updates are the writes over an unread value.
        const writes = unsafe.filter((s) => s.op === 'write');
        assert.ok(writes.some((w) => w.value === result.values.unsafe.final_balance));
        assert.ok(steps.some((s) => s.mode === 'safe' && s.op === 'lock-acquire' && s.value === 'the lock'));
      },
    );
  } finally {
    await course.close();
  }
});
