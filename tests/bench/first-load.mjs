// The first load: bytes (gzip -9 of every file the server sent, the page's and its workers'
// requests alike) and time until the topic shows and until a first run can start, each in a
// fresh browser context; then what else arrives in the first 2 s; then a second visit (a reload,
// with the browser's cache and the service worker); then the same topic and a topic of each
// other part on a page without isolation (the plain build, in parts too); then switches, on one
// page, to a topic of another part and back (the second time that part's wasm is cached); then
// the embed of each part's first topic in a course page's iframe (another origin). Targets:
// ready <= 500 ms with <= 250 KB, on either page; nothing over 50 KB in the rest of the
// first 2 s; no file fetched twice; a switch to a cached part's topic until Run works <= 300 ms.
// Part of tests/bench/browser-bench.mjs; `node tests/bench/first-load.mjs` runs it alone.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { launch, startServer } from '../browser/harness.mjs';

const median = (/** @type {number[]} */ xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Opens `?topic=cpu-map` in `runs` fresh contexts and prints one row per figure (medians).
 * @param {(what: string, value: string, target?: string) => void} row
 */
export async function firstLoadFigures(row, runs = 3) {
  /** @type {{path: string, readonly gzip: number, at: number}[] | null} */
  let served = null;
  // Compressed when first counted, not as it is served: gzip -9 of a wasm part takes the server's
  // only thread tens of milliseconds, which would hold up the responses after it.
  const onServed = (/** @type {string} */ path, /** @type {Buffer} */ body, /** @type {number} */ at) => {
    /** @type {number | undefined} */
    let size;
    served?.push({
      path,
      at,
      get gzip() {
        size ??= gzipSync(body, { level: 9 }).length;
        return size;
      },
    });
  };
  const server = await startServer({ onServed });
  // A course site's page: no cross-origin isolation, so the plain build.
  const plainServer = await startServer({ isolation: false, onServed });
  const browser = await launch();
  /** @type {{shownMs: number, readyMs: number, beforeReady: number, largestAfter: string, again: number, second: {shownMs: number, readyMs: number, bytes: number}}[]} */
  const loads = [];
  /** @type {{topic: string, part: string, readyMs: number, bytes: number}[]} */
  const others = [];
  /** @type {{readyMs: number, bytes: number}[]} */
  const plainLoads = [];
  /** @type {{topic: string, cached: boolean, ms: number}[]} */
  const switches = [];
  /** @type {{topic: string, part: string, readyMs: number, bytes: number}[]} */
  const plainOthers = [];
  /** @type {{topic: string, part: string, readyMs: number, bytes: number}[]} */
  const embeds = [];
  // A course site's own pages (another origin, no isolation), each with an embed in an iframe.
  const courseDir = mkdtempSync(join(tmpdir(), 'course-'));
  const courseServer = await startServer({ root: courseDir, isolation: false });
  /**
   * One load in a fresh context: when a first run can start (in the page, or in the embed it
   * frames), and the bytes the playground's servers sent until then.
   */
  const loadUntilReady = async (/** @type {string} */ url) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    served = [];
    await page.goto(url);
    const playground = page.frames().find((f) => f.url().includes('embed.html')) ?? page.mainFrame();
    await playground.waitForSelector('body[data-ready="true"]');
    const [readyMs, start] = await playground.evaluate(() => [
      performance.getEntriesByName('playground-ready')[0].startTime,
      performance.timeOrigin,
    ]);
    const bytes = served.filter((f) => f.at <= start + readyMs).reduce((total, f) => total + f.gzip, 0);
    served = null;
    await context.close();
    return { readyMs, bytes };
  };
  /** The embed of `topic` loaded in a course page's iframe (`loadUntilReady`). */
  const embedUntilReady = (/** @type {string} */ topic) => {
    writeFileSync(
      join(courseDir, `${topic}.html`),
      `<!doctype html><meta charset="utf-8"><title>A course</title><link rel="icon" href="data:,">
<iframe src="${plainServer.url}embed.html?topic=${topic}" width="1000" height="700"></iframe>`,
    );
    return loadUntilReady(`${courseServer.url}${topic}.html`);
  };
  try {
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      served = [];
      await page.goto(`${server.url}?topic=cpu-map`);
      await page.waitForSelector('body[data-ready="true"]');
      // The page's own marks, on the same clock as the server's timestamps (one machine).
      const marks = () =>
        page.evaluate(() => {
          const at = (/** @type {string} */ name) => performance.getEntriesByName(name)[0].startTime;
          return [at('playground-shown'), at('playground-ready'), performance.timeOrigin];
        });
      const [shownMs, readyMs, start] = await marks();
      await page.waitForTimeout(Math.max(0, start + 2100 - Date.now()));
      const files = served.filter((f) => f.at <= start + 2000);
      const sum = (/** @type {number} */ until) =>
        files.filter((f) => f.at <= start + until).reduce((total, f) => total + f.gzip, 0);
      const largest = files.filter((f) => f.at > start + readyMs).sort((a, b) => b.gzip - a.gzip)[0];
      const paths = files.map((f) => f.path);
      // The second visit: the files come from the cache, revalidated (304s are not counted).
      served = [];
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      const [shownAgain, readyAgain, startAgain] = await marks();
      const bytesAgain = served.filter((f) => f.at <= startAgain + readyAgain).reduce((total, f) => total + f.gzip, 0);
      loads.push({
        shownMs,
        readyMs,
        beforeReady: sum(readyMs),
        largestAfter: largest ? `${kb(largest.gzip)} (${largest.path})` : 'none',
        again: paths.length - new Set(paths).size,
        second: { shownMs: shownAgain, readyMs: readyAgain, bytes: bytesAgain },
      });
      served = null;
      await context.close();
    }
    // Every other engine part once: the first topic of each, in a fresh context.
    /** @type {import('../../www/js/types.js').Catalog} */
    const catalog = JSON.parse(readFileSync('www/pkg/catalog.json', 'utf8'));
    const firstOfOtherParts = [...new Set(Object.values(catalog.parts))]
      .filter((part) => part !== catalog.parts['cpu-map'])
      .flatMap((part) =>
        catalog.topics
          .filter((t) => catalog.parts[t.id] === part)
          .slice(0, 1)
          .map((t) => ({ topic: t.id, part })),
      );
    for (const { topic, part } of firstOfOtherParts)
      others.push({ topic, part, ...(await loadUntilReady(`${server.url}?topic=${topic}`)) });
    // Switches on one page, by the topic list's links: cpu-map to a topic of another part and back,
    // `runs` times; from the second switch on, both parts' wasm is cached (compiled in the page).
    const away = firstOfOtherParts[0].topic;
    {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.url}?topic=cpu-map`);
      await page.waitForSelector('body[data-ready="true"]');
      for (let i = 0; i < 2 * runs; i++) {
        const topic = i % 2 ? 'cpu-map' : away;
        switches.push({ topic, cached: i > 0, ms: await switchTo(page, topic) });
      }
      await context.close();
    }
    for (let i = 0; i < runs; i++) plainLoads.push(await loadUntilReady(`${plainServer.url}?topic=cpu-map`));
    // The plain build comes in parts too.
    for (const { topic, part } of firstOfOtherParts)
      plainOthers.push({ topic, part, ...(await loadUntilReady(`${plainServer.url}?topic=${topic}`)) });
    for (const { topic, part } of [{ topic: 'cpu-map', part: catalog.parts['cpu-map'] }, ...firstOfOtherParts])
      embeds.push({ topic, part, ...(await embedUntilReady(topic)) });
  } finally {
    await browser.close();
    await server.close();
    await plainServer.close();
    await courseServer.close();
  }
  const mid = (/** @type {(load: (typeof loads)[number]) => number} */ pick) => median(loads.map(pick));
  console.log(`\nfirst load of ?topic=cpu-map (fresh browser context each time; gzip -9; median of ${runs})`);
  row('time until the topic, its explanation and form show', `${mid((l) => l.shownMs).toFixed(0)} ms`);
  row(
    'time until the first run can start',
    `${mid((l) => l.readyMs).toFixed(0)} ms`,
    target(
      mid((l) => l.readyMs),
      '<=',
      500,
      'ms',
    ),
  );
  row('bytes until then', kb(mid((l) => l.beforeReady)), target(mid((l) => l.beforeReady) / 1024, '<=', 250, 'KB'));
  row(
    'largest file after that in the first 2 s, per load',
    loads.map((l) => l.largestAfter).join('; '),
    'target <= 50 KB',
  );
  row(
    'files fetched twice in the first 2 s',
    `${mid((l) => l.again)}`,
    target(
      mid((l) => l.again),
      '<=',
      0,
      'files',
    ),
  );
  row('second visit: time until the topic shows', `${mid((l) => l.second.shownMs).toFixed(0)} ms`);
  row('second visit: time until the first run can start', `${mid((l) => l.second.readyMs).toFixed(0)} ms`);
  row('second visit: bytes until then (not revalidated)', kb(mid((l) => l.second.bytes)));
  console.log('\nfirst load of a topic of each other engine part (one fresh context each)');
  for (const { topic, part, readyMs, bytes } of others)
    row(
      `${topic} (part ${part}): ready; bytes until then`,
      `${readyMs.toFixed(0)} ms; ${kb(bytes)}`,
      `${target(readyMs, '<=', 500, 'ms')}; ${target(bytes / 1024, '<=', 250, 'KB')}`,
    );
  console.log('\nswitches on one page by the topic list, cpu-map to a topic of another part and back');
  const [first, ...cached] = switches;
  row(`first switch to ${first.topic}: until Run works`, `${first.ms.toFixed(0)} ms`);
  const cachedMs = median(cached.map((s) => s.ms));
  row(
    `switch to a cached part's topic: until Run works (median of ${cached.length})`,
    `${cachedMs.toFixed(0)} ms`,
    target(cachedMs, '<=', 300, 'ms'),
  );
  console.log(`\nfirst load of ?topic=cpu-map on a page without isolation (the plain build; median of ${runs})`);
  const plainReady = median(plainLoads.map((l) => l.readyMs));
  row(
    'plain page: time until the first run can start',
    `${plainReady.toFixed(0)} ms`,
    target(plainReady, '<=', 500, 'ms'),
  );
  row(
    'plain page: bytes until then',
    kb(median(plainLoads.map((l) => l.bytes))),
    target(median(plainLoads.map((l) => l.bytes)) / 1024, '<=', 250, 'KB'),
  );
  for (const { topic, part, readyMs, bytes } of plainOthers)
    row(
      `plain page, ${topic} (part ${part}): ready; bytes until then`,
      `${readyMs.toFixed(0)} ms; ${kb(bytes)}`,
      `${target(readyMs, '<=', 500, 'ms')}; ${target(bytes / 1024, '<=', 250, 'KB')}`,
    );
  console.log('\nfirst load of embed.html in an iframe of a course page (another origin, no isolation; one each)');
  for (const { topic, part, readyMs, bytes } of embeds)
    row(
      `embed, ${topic} (part ${part}): ready; bytes until then`,
      `${readyMs.toFixed(0)} ms; ${kb(bytes)}`,
      `${target(readyMs, '<=', 500, 'ms')}; ${target(bytes / 1024, '<=', 250, 'KB')}`,
    );
}

/**
 * Clicks the topic list's link to `topic` (of another part than the topic shown) and resolves to the
 * milliseconds until Run works (the page's `playground-switched` mark for it).
 * @param {import('playwright-core').Page} page @param {string} topic
 */
function switchTo(page, topic) {
  return page.evaluate(
    (id) =>
      new Promise((resolve) => {
        const start = performance.now();
        const observer = new PerformanceObserver((list) => {
          const mark = list
            .getEntries()
            .find((e) => e.name === 'playground-switched' && /** @type {PerformanceMark} */ (e).detail === id);
          if (!mark) return;
          observer.disconnect();
          resolve(mark.startTime - start);
        });
        observer.observe({ type: 'mark' });
        /** @type {HTMLElement} */ (document.querySelector(`#topics a[data-topic="${id}"]`)).click();
      }),
    topic,
  );
}

/**
 * A target with whether `value` meets it: `target(value, '<=', 250, 'KB')` is "target <= 250 KB (met)".
 * @param {number} value
 * @param {'<=' | '>='} op
 * @param {number} limit
 * @param {string} unit
 */
export function target(value, op, limit, unit) {
  const met = op === '<=' ? value <= limit : value >= limit;
  return `target ${op} ${limit}${unit === 'x' ? '' : ' '}${unit} (${met ? 'met' : 'MISSED'})`;
}

/** @param {number} bytes */
function kb(bytes) {
  return `${(bytes / 1024).toFixed(0)} KB`;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await firstLoadFigures(
    (what, value, target = '') => console.log(`${what.padEnd(58)} ${String(value).padStart(14)}  ${target}`),
    Number(process.env.RUNS ?? 3),
  );
}
