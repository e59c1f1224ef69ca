// Predict, then run (issue 27): a learner answers a topic's questions above Run, runs it, and sees
// the answer beside the measurement with a sentence from the run's values; the verdict agrees
// with what was measured. Three topics: a number (cpu-map), a choice (race) and a fastest mode
// (io-compare).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { gotoReady, onPage, openPage, runAndWait, shoot, useBrowser } from './harness.mjs';

const env = useBrowser();

/**
 * The comparison the page shows after a run, one entry per prompt.
 * @param {import('playwright-core').Page} page
 */
async function compared(page) {
  return page.$$eval('#prediction-outcome .prediction', (rows) =>
    rows.map((row) => ({
      prompt: /** @type {HTMLElement} */ (row).dataset.prompt,
      verdict: /** @type {HTMLElement} */ (row).dataset.verdict,
      said: row.querySelectorAll('dd')[0]?.textContent ?? '',
      measured: row.querySelectorAll('dd')[1]?.textContent ?? '',
      shownVerdict: row.querySelector('.prediction-verdict')?.textContent ?? '',
      why: row.querySelector('.prediction-why')?.textContent ?? '',
    })),
  );
}

describe('predict, then run', () => {
  test('a learner predicts and runs in three topics and sees the prediction beside the measurement', async () => {
    await onPage(
      () => openPage(env.browser, null, { width: 1200, height: 1000 }),
      async ({ page }) => {
        // A number: the pool's speedup. The range that counts is printed; the verdict follows it.
        await gotoReady(page, `${env.url}?topic=cpu-map&tasks=4&numbers=4000000&workers=2`);
        assert.equal(await page.locator('#predict legend').first().textContent(), 'Predict, then run');
        await page.fill('#predict-pool-speedup', '1.8');
        const running = page.waitForFunction(
          () =>
            document.body.dataset.running === 'true' &&
            /** @type {HTMLInputElement} */ (document.querySelector('#predict-pool-speedup')).disabled,
          null,
          { timeout: 30_000 },
        );
        const status = runAndWait(page);
        await running; // the answer cannot change once the run started
        assert.match(await status, /^Finished/);
        const [speedup] = await compared(page);
        assert.equal(speedup.prompt, 'pool-speedup');
        assert.equal(speedup.said, '1.8 x');
        const range =
          /^(\d+(?:\.\d+)?)x \((\d+(?:\.\d+)?) to (\d+(?:\.\d+)?) counts\)$/.exec(speedup.measured) ??
          assert.fail(speedup.measured);
        const [min, max] = [Number(range[2]), Number(range[3])];
        assert.ok(min <= Number(range[1]) && Number(range[1]) <= max, speedup.measured);
        assert.equal(speedup.verdict, min <= 1.8 && 1.8 <= max ? 'right' : 'wrong', JSON.stringify(speedup));
        assert.match(
          speedup.why,
          /^Sequential took [\d.,]+ ms, Thread pool \(W threads\) [\d.,]+ ms: [\d.]+x; 2 workers on 4 tasks could reach at most 2x/,
        );
        assert.equal(await page.isDisabled('#predict-pool-speedup'), false, 'the field is free again after the run');
        await shoot(page, 'predict/cpu-map');

        // A choice: lost updates. One thread cannot lose any, so "some" is wrong whatever the timing.
        await gotoReady(page, `${env.url}?topic=race&threads=1&withdrawals=20&sweep=off`);
        await page.check('#predict-lost-updates-some');
        assert.match(await runAndWait(page), /^Finished/);
        const [alone] = await compared(page);
        assert.deepEqual(
          [alone.said, alone.measured, alone.verdict, alone.shownVerdict],
          ['Some (at most half)', '0 of 20 lost', 'wrong', 'Not this time'],
        );
        assert.match(alone.why, /the balance ended at 980 instead of 980: 0 of 20 withdrawals vanished \(0%\)/);
        // Ten threads: the verdict agrees with the count the run reports.
        await gotoReady(page, `${env.url}?topic=race&threads=10&withdrawals=30`);
        await page.check('#predict-lost-updates-most');
        assert.match(await runAndWait(page), /^Finished/);
        const [race] = await compared(page);
        const lost = Number((/^(\d+) of 300 lost$/.exec(race.measured) ?? assert.fail(race.measured))[1]);
        const share = lost / 300;
        const counts = share > 0.5 || Math.abs(share - 0.5) <= 0.05;
        assert.equal(race.verdict, counts ? 'right' : 'wrong', JSON.stringify(race));
        assert.match(race.why, new RegExp(`${lost} of 300 withdrawals vanished`));
        await shoot(page, 'predict/race');

        // Which finishes first: sequential waits 6 x 50 ms one after another, it cannot win.
        await gotoReady(page, `${env.url}?topic=io-compare&count=6&latency_ms=50&pool=6`);
        await page.check('#predict-first-sequential');
        assert.match(await runAndWait(page), /^Finished/);
        const [first] = await compared(page);
        assert.deepEqual([first.said, first.verdict], ['Sequential', 'wrong']);
        assert.notEqual(first.measured, 'Sequential');
        assert.match(first.why, /finished first \(.*Sequential [\d.,]+ ms\)/);
        await shoot(page, 'predict/io-compare');

        // No answer: the measurement and the sentence still show, with no verdict.
        await page.reload();
        await page.waitForSelector('body[data-ready="true"]');
        assert.match(await runAndWait(page), /^Finished/);
        const [blank] = await compared(page);
        assert.deepEqual([blank.said, blank.verdict, blank.shownVerdict], ['no answer', 'none', 'No prediction']);
      },
    );
  });

  test('prompt= asks only that question', async () => {
    await onPage(
      () => openPage(env.browser, `${env.url}embed.html?topic=deadlock&prompt=ordered-deadlock&panels=params,results`),
      async ({ page }) => {
        assert.deepEqual(await page.$$eval('#predict .predict-prompt legend', (l) => l.map((x) => x.textContent)), [
          'If every thread takes the two locks in one global order, will they deadlock?',
        ]);
        await page.goto(`${env.url}embed.html?topic=deadlock&prompt=nothing-like-it`);
        await page.waitForSelector('body[data-ready="true"]');
        assert.equal(await page.locator('#predict').count(), 0);
      },
    );
  });

  test('the exercise builder gives the link, the snippet and the SCORM package of the form as it is', async () => {
    await onPage(
      () => openPage(env.browser, `${env.url}?topic=deadlock&rounds=2`),
      async ({ page }) => {
        await page.click('#for-your-lms');
        assert.equal(await page.getAttribute('#for-your-lms', 'aria-expanded'), 'true');
        assert.equal(await page.inputValue('#exercise-prompt'), 'ordered-deadlock', 'the only question is chosen');
        await page.uncheck('#exercise-panel-timeline');
        const link = new URL((await page.getAttribute('#exercise-link', 'href')) ?? '');
        assert.equal(link.pathname, '/embed.html');
        assert.deepEqual(Object.fromEntries(link.searchParams), {
          topic: 'deadlock',
          rounds: '2',
          prompt: 'ordered-deadlock',
          panels: 'params,results',
        });
        assert.equal(
          await page.inputValue('#exercise-snippet'),
          `<script src="${env.url}embed.js" defer></script>\n<div data-concurrency-topic="deadlock" data-params='{&quot;rounds&quot;:&quot;2&quot;}' data-prompt="ordered-deadlock" data-panels="params,results"></div>`,
        );
        await shoot(page, 'predict/exercise-builder');
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#exercise-download')]);
        assert.equal(download.suggestedFilename(), 'deadlock-ordered-deadlock-scorm12.zip');
        const file = join(mkdtempSync(join(tmpdir(), 'package-')), 'p.zip');
        await download.saveAs(file);
        const listing = execFileSync(
          'python3',
          [
            '-c',
            'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); z.testzip(); print(" ".join(z.namelist())); print(z.read("index.html").decode())',
            file,
          ],
          { encoding: 'utf8' },
        );
        assert.match(listing, /^imsmanifest.xml index.html launch.js\n/);
        assert.ok(
          listing.includes(
            `"playground":"${env.url}","topic":"deadlock","params":{"rounds":"2"},"prompt":"ordered-deadlock","panels":["params","results"]`,
          ),
          listing,
        );
      },
    );
  });
});
