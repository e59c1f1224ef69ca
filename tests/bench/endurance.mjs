// Endurance: 200 runs in a row on one page, as a learner going back and forth between a CPU
// topic, an I/O topic and a process topic would, with small parameters. At the start and after
// every 50 runs: the page's JS heap (after a forced garbage collection), its DOM nodes, the
// workers alive (engine, threads, isolated workers), and all the memory the page and its workers
// hold (`performance.measureUserAgentSpecificMemory`, wasm memories included). Reported as flat
// or not; never asserted. Part of `./build.sh bench`; alone: `node tests/bench/endurance.mjs`.

import { pathToFileURL } from 'node:url';
import { CHROMIUM_ARGS, runAndWait, startServer } from '../browser/harness.mjs';
import { chromium } from 'playwright-core';

const RUNS = 200;
const EVERY = 50;
const TOPICS = [
  '?topic=cpu-map&tasks=2&numbers=2000000&workers=2',
  '?topic=io-compare&count=5&latency_ms=10&pool=5',
  '?topic=process-basics&workers=2&limit=100000',
];

/**
 * @param {string} url the playground (served with the isolation headers)
 * @param {(what: string, value: string, target?: string) => void} row prints one line of the table
 */
export async function endurance(url, row) {
  // Its own browser: eager memory measurement needs a flag the other sections do not use.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--enable-blink-features=ForceEagerMeasureMemory'],
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(`${url}${TOPICS[0]}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });

  const sample = async (/** @type {number} */ runs) => {
    await cdp.send('HeapProfiler.collectGarbage');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const metric = (/** @type {string} */ name) => metrics.find((m) => m.name === name)?.value ?? NaN;
    const { total, parts } = await page.evaluate(async () => {
      // Chromium's, not in TypeScript's DOM types.
      /** @typedef {{bytes: number, breakdown: {bytes: number, attribution: {url: string}[]}[]}} MemoryMeasurement */
      const measure = /** @type {{measureUserAgentSpecificMemory?: () => Promise<MemoryMeasurement>}} */ (performance)
        .measureUserAgentSpecificMemory;
      if (!measure) return { total: NaN, parts: {} };
      const result = await measure.call(performance);
      // Where it is: the page, the engine, threads, isolated workers, rayon's threads.
      /** @type {Record<string, number>} */
      const parts = {};
      for (const entry of result.breakdown) {
        const url = entry.attribution[0]?.url ?? '';
        const kind = /engine-worker/.test(url)
          ? 'engine'
          : /thread_worker/.test(url)
            ? 'threads'
            : /isolated-worker/.test(url)
              ? 'isolated'
              : /^blob:/.test(url)
                ? 'rayon'
                : entry.attribution.length
                  ? 'page'
                  : 'shared';
        parts[kind] = (parts[kind] ?? 0) + entry.bytes;
      }
      return { total: result.bytes, parts };
    });
    return {
      runs,
      heap: metric('JSHeapUsedSize'),
      nodes: metric('Nodes'),
      workers: page.workers().length,
      total,
      parts,
    };
  };

  const samples = [];
  const statuses = new Map();
  let failed = 0;
  for (let i = 0; i < RUNS; i++) {
    // In-page routing, as the back and forward buttons do: one page for all 200 runs.
    if (i > 0) await show(page, TOPICS[i % TOPICS.length]);
    const status = await runAndWait(page, { timeout: 120_000 });
    const kind = status.split(/[ :.]/)[0];
    statuses.set(kind, (statuses.get(kind) ?? 0) + 1);
    if (!/^Finished/.test(status)) failed++;
    if (i === 0 || (i + 1) % EVERY === 0) samples.push(await sample(i + 1));
  }
  await browser.close();

  const mb = (/** @type {number} */ bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
  console.log(
    `\nendurance: ${RUNS} runs on one page (cpu-map, io-compare, process-basics in turn), sampled at the first run and every ${EVERY}`,
  );
  console.log(
    `${'after runs'.padEnd(12)}${'JS heap'.padStart(12)}${'DOM nodes'.padStart(12)}${'workers'.padStart(10)}${'all memory'.padStart(14)}`,
  );
  for (const s of samples)
    console.log(
      `${String(s.runs).padEnd(12)}${mb(s.heap).padStart(12)}${String(s.nodes).padStart(12)}${String(s.workers).padStart(10)}${(Number.isFinite(s.total) ? mb(s.total) : 'n/a').padStart(14)}`,
    );
  for (const s of samples)
    console.log(
      `  after ${s.runs}: ${Object.entries(s.parts)
        .map(([k, b]) => `${k} ${mb(b)}`)
        .join(', ')}`,
    );
  // Flat: from the sample after 50 runs (everything warm) to the last, within a little noise.
  const [warm, last] = [samples[1], samples[samples.length - 1]];
  const flat = (
    /** @type {number} */ a,
    /** @type {number} */ b,
    /** @type {number} */ slack,
    /** @type {number} */ floor,
  ) => b <= a * (1 + slack) + floor;
  const verdict = (/** @type {boolean} */ ok) => (ok ? 'flat' : 'GROWS');
  row(
    `endurance: JS heap, ${warm.runs} -> ${last.runs} runs`,
    `${mb(warm.heap)} -> ${mb(last.heap)}`,
    verdict(flat(warm.heap, last.heap, 0.1, 1 << 20)),
  );
  row(
    `endurance: DOM nodes, ${warm.runs} -> ${last.runs} runs`,
    `${warm.nodes} -> ${last.nodes}`,
    verdict(flat(warm.nodes, last.nodes, 0.05, 200)),
  );
  row(
    `endurance: workers, ${warm.runs} -> ${last.runs} runs`,
    `${warm.workers} -> ${last.workers}`,
    verdict(last.workers <= warm.workers),
  );
  if (Number.isFinite(last.total))
    row(
      `endurance: all memory, ${warm.runs} -> ${last.runs} runs`,
      `${mb(warm.total)} -> ${mb(last.total)}`,
      verdict(flat(warm.total, last.total, 0.1, 4 << 20)),
    );
  row(
    'endurance: runs that did not finish',
    `${failed} of ${RUNS}`,
    [...statuses].map(([k, n]) => `${k}: ${n}`).join(', '),
  );
}

/**
 * Shows another topic by in-page routing and waits until its page is built.
 * @param {import('playwright-core').Page} page
 * @param {string} query
 */
async function show(page, query) {
  const before = await page.evaluate((q) => {
    const heading = document.querySelector('#app h1')?.textContent ?? '';
    history.pushState(null, '', q);
    dispatchEvent(new PopStateEvent('popstate'));
    return heading;
  }, query);
  await page.waitForFunction((b) => (document.querySelector('#app h1')?.textContent ?? b) !== b, before);
}

// Alone: serve www/ and run just this section.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await startServer({ isolation: true });
  try {
    await endurance(server.url, (what, value, target = '') =>
      console.log(`${what.padEnd(58)} ${String(value).padStart(24)}  ${target}`),
    );
  } finally {
    await server.close();
  }
}
