// The process-style topics in headless Chromium, beyond their defaults (catalog.test.mjs): edited
// parameters typed into the form on a page WITHOUT the isolation headers (an ordinary static
// host; isolated workers need no isolation), image-resize with files the learner picks, inside an
// iframe on another origin driven through the embed API, and footprint's thread row on an
// isolated page. Screenshots go to test-results/.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  checks,
  onPage,
  openCoursePage,
  openPage,
  runAndWait,
  runFromForm,
  shoot,
  table,
  timings,
  toMs,
  useBrowser,
} from './harness.mjs';

const env = useBrowser();

/**
 * The text of the first result table that mentions `title`.
 * @param {import('playwright-core').Page} page
 * @param {string} title
 */
async function tableText(page, title) {
  return page.$$eval(
    '#results table',
    (tables, wanted) => tables.map((t) => t.textContent ?? '').find((text) => text.includes(wanted)) ?? '',
    title,
  );
}

/**
 * Edited parameters per topic (typed into the form), and what the run must then show.
 * @type {Record<string, import('./harness.mjs').FormEdits>}
 */
const EDITED = {
  'process-basics': { values: { workers: 2, limit: 3000000 }, expect: { workers: /^2 sums of 8999995500000500000$/ } },
  'process-pool': {
    values: { lo: 0, hi: 200000, ranges: 8, workers: 2 },
    expect: { pool: /^17,984 primes$/, sequential: /^17,984 primes$/ },
  },
  'ipc-queues': { values: { numbers: 9, workers: 3, time_scale: 0.2 }, expect: { workers: /^9 squares$/ } },
  'image-resize': {
    values: { max_w: 200, max_h: 200, workers: 3 },
    select: { size: 'small' },
    expect: { pool: /^7 thumbnails, 1 error/ },
  },
  'process-executor': { values: { powers: '2^10, 3^4', squares: 3 }, expect: { executor: /^5 results, 1 exception/ } },
  footprint: { values: { samples: 2, payload_kb: 64 }, expect: { worker: /median of 2/ } },
};

describe('process topics on a page without cross-origin isolation', () => {
  for (const [id, edits] of Object.entries(EDITED)) {
    test(`${id}: edited parameters typed into the form run on isolated workers`, () =>
      onPage(
        () => openPage(env.browser, `${env.plainUrl}index.html?topic=${id}`),
        async ({ page }) => {
          const rows = await runFromForm(page, { ...edits, shot: `${id}-edited` });
          for (const [mode, row] of Object.entries(rows)) {
            // Only footprint has a thread mode; it must say why it cannot run here.
            if (mode === 'thread') assert.match(row.note, /cross-origin isolated/);
            else assert.equal(row.status, 'ok', `${mode}: ${JSON.stringify(row)}`);
          }
          const workerMode = Object.entries(rows).find(([mode]) =>
            ['workers', 'pool', 'executor', 'worker'].includes(mode),
          );
          assert.ok(workerMode, 'a mode on isolated workers');
          assert.ok(workerMode[1].lanes >= 1, 'the workers are drawn on lanes');
        },
      ));
  }

  test('process-pool: the log explains the outcome with the measured numbers, and bytes crossed are shown', () =>
    onPage(
      () => openPage(env.browser, `${env.plainUrl}index.html?topic=process-pool`),
      async ({ page }) => {
        assert.match(await runAndWait(page), /^Finished/);
        const rows = await timings(page);
        assert.match(rows.pool.note, /bytes crossed in \d+ messages/);
        const output = (await page.textContent('#results')) ?? '';
        // The verdict names both measured wall times, as shown in the timing table.
        const verdict = /The pool (won|lost): ([\d.]+ ms) against ([\d.]+ ms) for one loop/.exec(output);
        assert.ok(verdict, 'verdict in the output');
        assert.equal(verdict[1], 'lost', 'on the tiny default, starting workers costs more than the work');
      },
    ));

  test('image-resize: thumbnails are shown and the broken file is reported', () =>
    onPage(
      () => openPage(env.browser, `${env.plainUrl}index.html?topic=image-resize&size=small`),
      async ({ page }) => {
        assert.match(await runAndWait(page), /^Finished/);
        const images = await page.$$eval('#results img, #results canvas', (els) => els.length);
        assert.ok(images >= 4, `${images} thumbnails shown`);
        const output = (await page.textContent('#results')) ?? '';
        assert.match(output, /broken\.png: cannot decode/);
        assert.match(await tableText(page, 'thumbnail bytes'), /sunset\.png800 x 600/);
      },
    ));
});

describe('image-resize with files the learner picks', () => {
  test('image-resize: picked PNG and JPEG files become thumbnails, a text file fails with its name', () =>
    onPage(
      () => openPage(env.browser, `${env.plainUrl}index.html?topic=image-resize&size=tiny&max_w=200&max_h=200`),
      async ({ page }) => {
        // The browser's own encoders make the files: a 1000 x 500 JPEG photo and a 90 x 120 PNG.
        const encode = (/** @type {string} */ type, /** @type {number} */ width, /** @type {number} */ height) =>
          page.evaluate(
            async ([type, width, height]) => {
              const canvas = new OffscreenCanvas(width, height);
              const g = /** @type {OffscreenCanvasRenderingContext2D} a new canvas has one */ (canvas.getContext('2d'));
              const gradient = g.createLinearGradient(0, 0, width, height);
              gradient.addColorStop(0, '#1d4ed8');
              gradient.addColorStop(1, '#f59e0b');
              g.fillStyle = gradient;
              g.fillRect(0, 0, width, height);
              g.fillStyle = '#fff';
              g.beginPath();
              g.arc(width / 2, height / 2, Math.min(width, height) / 3, 0, 7);
              g.fill();
              return [...new Uint8Array(await (await canvas.convertToBlob({ type, quality: 0.9 })).arrayBuffer())];
            },
            /** @type {const} */ ([type, width, height]),
          );
        const photo = {
          name: 'photo.jpg',
          mimeType: 'image/jpeg',
          buffer: Buffer.from(await encode('image/jpeg', 1000, 500)),
        };
        const drawing = {
          name: 'drawing.png',
          mimeType: 'image/png',
          buffer: Buffer.from(await encode('image/png', 90, 120)),
        };
        const notes = { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture at all') };

        // Over the limit: Rust's message appears next to the field.
        const many = Array.from({ length: 9 }, (_, i) => ({
          name: `n${i}.txt`,
          mimeType: 'text/plain',
          buffer: Buffer.from('x'),
        }));
        await page.setInputFiles('#param-files', many);
        await page.waitForFunction(() => document.getElementById('param-files-error')?.textContent !== '');
        assert.equal(await page.textContent('#param-files-error'), 'Your images: at most 8 files, not 9');

        await page.setInputFiles('#param-files', [drawing, photo, notes]);
        await page.waitForFunction(() => document.getElementById('param-files-error')?.textContent === '');
        const listed = await page.$$eval('#param-files-list li', (items) => items.map((li) => li.textContent ?? ''));
        assert.equal(listed.length, 3);
        assert.match(listed[0], /^drawing\.png \(\d+\.\d KB\)$/);
        assert.equal(listed[1], `photo.jpg (${(photo.buffer.length / 1e3).toFixed(1)} KB)`);
        assert.equal(listed[2], 'notes.txt (20 bytes)');

        assert.match(await runAndWait(page), /^Finished/);
        // Columns: file, input, input bytes, thumbnail, thumbnail bytes, timings or the error.
        const rows = (await table(page, 'Thumbnails')) ?? [];
        const row = Object.fromEntries(
          rows.map(([file, input, , thumbnail, , last]) => [file, { input, thumbnail, last }]),
        );
        assert.deepEqual(
          rows.map((r) => r[0]).slice(-4),
          ['broken.png', 'drawing.png', 'photo.jpg', 'notes.txt'],
          'picked files come after the generated ones',
        );
        assert.deepEqual([row['photo.jpg'].input, row['photo.jpg'].thumbnail], ['1000 x 500', '200 x 100']);
        assert.deepEqual(
          [row['drawing.png'].input, row['drawing.png'].thumbnail],
          ['90 x 120', '90 x 120'],
          'smaller than the box: kept',
        );
        assert.equal(row['sunset.png'].thumbnail, '200 x 150');
        assert.deepEqual(row['notes.txt'], {
          input: '?',
          thumbnail: 'error',
          last: 'notes.txt: cannot decode: not a PNG or JPEG file',
        });
        assert.match((await timings(page)).pool.result, /^9 thumbnails, 2 error/);
        for (const check of await checks(page)) assert.ok(check.ok, check.text);
        // Files stay out of the address bar; the history names them without their bytes.
        assert.equal(new URL(page.url()).searchParams.get('files'), null);
        assert.match((await page.textContent('.history-view')) ?? '', /files=drawing\.png,photo\.jpg,notes\.txt/);
        await shoot(page, 'image-resize-files');
      },
    ));
});

describe('process topics inside an iframe on another (non-isolated) site', () => {
  test('a course page embeds process-pool and ipc-queues and reads their results', () =>
    onPage(
      () =>
        openCoursePage(
          env.browser,
          `<!doctype html><meta charset="utf-8"><title>A course</title><link rel="icon" href="data:,">
<iframe id="topic" src="${env.plainUrl}embed.html?topic=process-pool" width="900" height="700"></iframe>
<script>
  window.results = [];
  const frame = document.getElementById('topic');
  window.addEventListener('message', (event) => {
    if (event.data?.type === 'ready') {
      frame.contentWindow.postMessage({ type: 'run', topic: 'process-pool', params: {}, requestId: 1 }, '*');
    } else if (event.data?.type === 'result' || event.data?.type === 'error') {
      window.results.push(event.data);
      // One run at a time: the second request goes out when the first has answered.
      if (event.data.requestId === 1) frame.contentWindow.postMessage({ type: 'run', topic: 'ipc-queues', params: { time_scale: 0.1 }, requestId: 2 }, '*');
    }
  });
</script>`,
          'course.html',
        ),
      async ({ page }) => {
        await page.waitForFunction(() => window.results.length === 2, null, { timeout: 90_000 });
        const results = await page.evaluate(() => window.results);
        const pool = results.find((r) => r.requestId === 1) ?? assert.fail('no answer to request 1');
        const queues = results.find((r) => r.requestId === 2) ?? assert.fail('no answer to request 2');
        assert.equal(pool.type, 'result', JSON.stringify(pool));
        assert.equal(queues.type, 'result', JSON.stringify(queues));
        assert.equal(pool.status, 'ok');
        assert.equal(pool.values.count, 501);
        assert.ok(
          pool.checks.every((c) => c.ok),
          JSON.stringify(pool.checks),
        );
        assert.equal(queues.status, 'ok');
        assert.equal(queues.values.results.length, 20);
        await shoot(page, 'processes-iframe');
      },
    ));
});

describe('footprint on a cross-origin isolated page', () => {
  test('measures one more thread as well, and says how', () =>
    onPage(
      () => openPage(env.browser, `${env.url}index.html?topic=footprint&samples=3`),
      async ({ page }) => {
        assert.match(await runAndWait(page), /^Finished/);
        const rows = await timings(page);
        assert.equal(rows.thread.status, 'ok');
        assert.equal(rows.worker.status, 'ok');
        const text = await tableText(page, 'how it was measured');
        for (const what of [
          'start one more thread',
          'start a thread on a finished one',
          'memory of one more thread',
          'start one more isolated worker',
          'memory of one more worker',
          'large message round trip',
        ]) {
          assert.ok(text.includes(what), what);
        }
        // In the browser every worker reports its own wasm memory (whole 64 KiB pages).
        assert.match(text, /memory of one more worker[\s\S]*?\d+(\.\d+)? (MiB|KiB)/);
        // A new thread is a new Web Worker; a finished one is reused far faster.
        const median = Object.fromEntries(
          ((await table(page, 'What one more costs')) ?? assert.fail('no table What one more costs')).map(
            ([what, value]) => [what, toMs(value)],
          ),
        );
        const [fresh, reused] = [median['start one more thread'], median['start a thread on a finished one']];
        assert.ok(reused < fresh / 2, `reused ${reused} ms vs new ${fresh} ms`);
        await shoot(page, 'footprint-isolated');
      },
    ));
});
