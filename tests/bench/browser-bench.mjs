// Browser benchmarks in headless Chromium, with the native figures of the same code for ratios.
// Targets (printed next to the figures, never asserted): wasm kernel <= 1.3x native; large jobs on
// 2 threads and 2 isolated workers >= 1.85x; on the first click of a fresh page, the CPU lessons
// >= 1.8x (image-resize's pool >= 1.75x); reused thread start <= 3 ms; first load <= 250 KB gzip
// and a first run possible within 500 ms on the isolated page, <= 250 KB on a page without
// isolation (the plain build), and no other file over 50 KB in the first 2 s; no task on the page's main thread over
// 50 ms during any topic's default run (tests/bench/longtasks.mjs); a switch to a topic of another
// part whose wasm is cached, until Run works, <= 300 ms; `./build.sh build` on an unchanged tree <= 15 s.
// This machine has 2 cores (2x is the ceiling) and is noisy: medians of several runs.

import { execFileSync } from 'node:child_process';
import { launch, openPage, runAndWait, startServer, timings, toMs } from '../browser/harness.mjs';
import { cpythonBesideWasm } from './cpython.mjs';
import { endurance } from './endurance.mjs';
import { firstLoadFigures, target } from './first-load.mjs';
import { longTaskFigures } from './longtasks.mjs';
import { steadiness } from './steadiness.mjs';

/** @typedef {import('../../www/js/engine-client.js').Engine} Engine */

const median = (/** @type {number[]} */ xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const fmt = (/** @type {number} */ x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
/** @type {[what: string, value: string, target: string][]} */
const rows = [];
/** One printed figure: what, its value, and the target it is held to (if any). */
const row = (/** @type {string} */ what, /** @type {string} */ value, target = '') => {
  rows.push([what, value, target]);
  console.log(`${what.padEnd(58)} ${String(value).padStart(14)}  ${target}`);
};

/** @type {Record<string, number>} the native benchmark's figures, by name */
const native = JSON.parse(
  execFileSync('cargo', ['run', '-q', '--release', '--example', 'bench_native', '--', '--json'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop() ?? '',
);
// The build that `./build.sh bench` has just made, again: nothing changed, so every part is skipped.
// Twice, the second timed: the native examples ran in between, after which cargo rebuilt the
// release library export_static links (about a minute), which a learner's second
// `./build.sh serve` does not.
{
  execFileSync('./build.sh', ['build'], { stdio: 'ignore' });
  const start = performance.now();
  execFileSync('./build.sh', ['build'], { stdio: 'ignore' });
  const seconds = (performance.now() - start) / 1000;
  row('./build.sh build on an unchanged tree', `${fmt(seconds, 1)} s`, target(seconds, '<=', 15, 's'));
}

const server = await startServer();
const browser = await launch();

await steadiness(row, 'before the page figures');

await firstLoadFigures(row);

/** Speedups over the first mode, per topic and mode, for the CPython comparison at the end. */
/** @type {Record<string, Record<string, number>>} */
const wasmSpeedups = {};

await steadiness(row, 'before the first clicks');

// ---- the first click: a learner opens a topic on a fresh page and presses Run at once ----
// Each CPU lesson with its defaults, in a new browser context each time (nothing warm but what
// the page starts when it shows the topic); medians of 3 fresh pages, then a second click.
{
  const PER_MODE = {
    'cpu-map': { threads: '>= 1.8x', rayon: '>= 1.8x', workers: '>= 1.8x' },
    gil: { gil: '<= 1.1x', nogil: '>= 1.8x', workers: '>= 1.8x' },
    'image-resize': { pool: '>= 1.75x' },
    kitchen: { parallel: 'within 10% of concurrent' },
    'io-compare': { threads: '<= 200 ms' },
    'process-pool': {},
  };
  console.log(
    '\nfirst click on a fresh page, defaults (median of 3; speedup over the first mode; then the second click)',
  );
  for (const [topic, targets] of Object.entries(PER_MODE)) {
    /** @type {Record<string, number[]>[]} walls per click: [first, second] */
    const clicks = [{}, {}];
    for (let i = 0; i < 3; i++) {
      const { page, context } = await openPage(browser, `${server.url}?topic=${topic}`);
      for (const walls of clicks) {
        await runAndWait(page);
        for (const [mode, row] of Object.entries(await timings(page))) {
          walls[mode] ??= [];
          walls[mode].push(toMs(row.wall));
        }
      }
      await context.close();
    }
    for (const [k, walls] of clicks.entries()) {
      const modes = Object.keys(walls);
      const base = median(walls[modes[0]]);
      if (k === 0) wasmSpeedups[topic] = Object.fromEntries(modes.map((mode) => [mode, base / median(walls[mode])]));
      const ms = (/** @type {number} */ x) => fmt(x, x < 10 ? 1 : 0);
      const figures = modes.map(
        (mode) =>
          `${mode} ${ms(median(walls[mode]))} ms${mode === modes[0] ? '' : ` (${fmt(base / median(walls[mode]))}x)`}`,
      );
      row(`${topic}, ${k ? 'second' : 'first'} click`, '');
      console.log(`    ${figures.join('; ')}`);
      // Each first-click target beside its own figure, met or not.
      for (const [mode, wanted] of k ? [] : Object.entries(targets)) {
        const ratio = base / median(walls[mode]);
        const [, op, limit, unit] = wanted.match(/^(<=|>=) ([\d.]+) ?(x|ms)$/) ?? [];
        const value = unit === 'ms' ? median(walls[mode]) : ratio;
        const said = op === '<=' || op === '>=' ? target(value, op, Number(limit), unit) : `target: ${wanted}`;
        row(`    ${topic} ${mode}, first click`, unit === 'ms' ? `${fmt(value, 0)} ms` : `${fmt(ratio)}x`, said);
      }
    }
  }
}

await steadiness(row, 'after the first clicks');

const { page } = await openPage(browser, `${server.url}?topic=cpu-map`);
// One engine for the whole bench, driven through the page's own client (no eval: the page's
// Content-Security-Policy forbids it, and the bench runs under the same policy).
/**
 * @template {'bench' | 'run'} M
 * @param {M} method
 * @param {Parameters<Engine[M]>[0]} a
 * @param {Parameters<Engine[M]>[1]} b
 * @returns {Promise<Awaited<ReturnType<Engine[M]>>>}
 */
const inEngine = (method, a, b) =>
  /** @type {Promise<Awaited<ReturnType<Engine[M]>>>} */ (
    page.evaluate(
      async ([method, a, b]) => {
        const [client, catalogs] = ['./js/engine-client.js', './js/catalog.js']; // relative to the page, not to this file
        /** @type {typeof import('../../www/js/engine-client.js')} */
        const { Engine } = await import(client);
        /** @type {typeof import('../../www/js/catalog.js')} */
        const { loadCatalog, partOf } = await import(catalogs);
        const catalog = await loadCatalog();
        // Runs go to each topic's part; the measurements to the part that has them (the catalog
        // says which), an engine of their own that no run switches away.
        window.benchEngines ??= {};
        window.benchEngines[method] ??=
          method === 'bench'
            ? new Engine(catalog.diagnostics)
            : new Engine(partOf(catalog, 'cpu-map'), (topic) => partOf(catalog, topic));
        const engine = window.benchEngines[method];
        await engine.ready;
        // A topic of another part: the engine switches to it first, as the page does before a run.
        if (method === 'run' && !(await engine.readyFor(/** @type {string} */ (a))))
          throw new Error(`the engine did not switch to ${a}'s part`);
        const call = /** @type {(a: unknown, b: unknown) => Promise<unknown>} */ (engine[method]);
        return call.call(engine, a, b);
      },
      /** @type {const} */ ([method, a, b]),
    )
  );

// ---- the same measurements as the native benchmark ----
console.log('\nwasm (engine worker, threaded build) vs native, medians');
/** @type {[name: string, arg: number, reps: number, label: string][]} */
const CASES = [
  ['kernel-ms', 100_000_000, 5, 'sum of i*i, 100M numbers, one thread (ms)'],
  ['primes-ms', 1_000_000, 5, 'primes below 1M by trial division, one thread (ms)'],
  ['handoff-ns', 20_000, 5, 'Mutex+Condvar hand-off between 2 threads (ns)'],
  ['mutex-1-per-s', 2_000_000, 5, 'contended Mutex increments/s, 1 thread'],
  ['mutex-2-per-s', 1_000_000, 5, 'contended Mutex increments/s, 2 threads'],
  ['atomic-1-per-s', 5_000_000, 5, 'AtomicU64 increments/s, 1 thread'],
  ['atomic-2-per-s', 2_500_000, 5, 'AtomicU64 increments/s, 2 threads'],
  ['thread-start-ms', 1, 9, 'start + join one thread (ms)'],
  ['waits-100ms-ms', 10_000, 3, '10,000 concurrent 100 ms waits (ms)'],
  ['waits-100ms-ms', 100_000, 3, '100,000 concurrent 100 ms waits (ms)'],
];
/**
 * Runs a CPU case until three runs in a row agree within 5% (at most 12 runs): the page's own
 * start (workers compiling the plain build, the engine's warm-up) shares this machine's 2 cores
 * for a few seconds, and a kernel measured beside it is not the kernel's speed.
 * @param {string} name @param {number} arg
 */
const steady = async (name, arg) => {
  const last = [];
  for (let i = 0; i < 12; i++) {
    last.push(/** @type {{Ok?: number}} */ (await inEngine('bench', name, arg)).Ok ?? NaN);
    const three = last.slice(-3);
    if (three.length === 3 && Math.max(...three) <= 1.05 * Math.min(...three)) return;
  }
};
for (const [name, arg, reps, label] of CASES) {
  if (name === 'kernel-ms' || name === 'primes-ms') await steady(name, arg);
  const values = [];
  for (let i = 0; i < reps; i++) {
    const answer = await inEngine('bench', name, arg);
    values.push(/** @type {{Ok?: number}} */ (answer).Ok ?? NaN);
  }
  const wasm = median(values);
  const base = name === 'waits-100ms-ms' && arg !== 10_000 ? NaN : native[name];
  const ratio = name.endsWith('per-s') ? base / wasm : wasm / base;
  const target =
    name === 'kernel-ms' || name === 'primes-ms'
      ? 'target <= 1.3x'
      : name.startsWith('waits')
        ? `${fmt(wasm / 100)}x one wait (target <= 1.5x)`
        : '';
  row(`${label}: wasm`, fmt(wasm), target);
  if (Number.isFinite(base))
    row(`${label}: native`, fmt(base), `wasm/native ${name.endsWith('per-s') ? 'slowdown' : ''} ${fmt(ratio)}x`);
}

// ---- whole topics: speedups measured by the topics themselves ----
/**
 * A topic's report (the bench's parameters are valid, so a run that ends otherwise is a failure).
 * @param {string} topic
 * @param {import('../../www/js/types.js').Values} params
 */
const runTopic = async (topic, params) => {
  const outcome = await inEngine('run', topic, params);
  if (outcome.outcome !== 'finished') throw new Error(`${topic} did not finish: ${JSON.stringify(outcome)}`);
  return outcome;
};
/** @type {Record<string, number[]>} */
const speedups = {};
for (let i = 0; i < 3; i++) {
  const outcome = await runTopic('cpu-map', { tasks: 4, numbers: 250_000_000, workers: 2 });
  for (const m of outcome.report.modes) {
    speedups[m.id] ??= [];
    speedups[m.id].push(m.speedup ?? NaN);
  }
}
console.log('\ncpu-map, 4 tasks x 250M numbers, W = 2, start-up included (median of 3 runs, speedup over sequential)');
for (const [mode, values] of Object.entries(speedups))
  row(`speedup: ${mode}`, `${fmt(median(values))}x`, mode === 'sequential' ? '' : 'target >= 1.85x');

/** @type {{count?: unknown, 1?: number, 2?: number}} median wall times by pool size, and the primes counted */
const pool = {};
for (const workers of /** @type {const} */ ([1, 2])) {
  const walls = [];
  for (let i = 0; i < 2; i++) {
    const outcome = await runTopic('process-pool', { lo: 0, hi: 10_000_000, ranges: 16, workers });
    walls.push(outcome.report.modes.find((m) => m.id === 'warm')?.wall_ms ?? NaN);
    pool.count = outcome.report.values.count;
  }
  pool[workers] = median(walls);
}
console.log('\nprocess-pool large preset (primes below 10,000,000, 16 ranges), warm pool, median of 2');
const [pool1, pool2] = [pool[1] ?? NaN, pool[2] ?? NaN];
row('pool of 1 isolated worker (ms)', fmt(pool1, 0));
row(
  'pool of 2 isolated workers (ms)',
  fmt(pool2, 0),
  `speedup ${fmt(pool1 / pool2)}x (target >= 1.85x), ${pool.count} primes`,
);
wasmSpeedups['process-pool'] = { 'pool of 2': pool1 / pool2 };

const footprint = await runTopic('footprint', { samples: 5, payload_kb: 1024 });
/** @type {Record<string, number>} what footprint reports by name */
const v = /** @type {Record<string, number>} */ (footprint.report.values);
console.log('\nstart-up and messages (footprint topic, medians of 5)');
row('start one isolated worker (spawn + wasm instance) ms', fmt(v.worker_start_ms));
row('start one thread (new Web Worker) ms', fmt(v.thread_start_ms));
row('start one thread on a finished one (reused) ms', fmt(v.thread_reuse_ms), 'target <= 3 ms');
row('message round trip, small (ms)', fmt(v.small_round_trip_ms, 3));
row('message round trip, 1 MB (ms)', fmt(v.large_round_trip_ms));

cpythonBesideWasm(process.env.PLAYGROUND_PYTHON ?? '.venv/bin/python', 'www/pkg/texts', wasmSpeedups, row);

await longTaskFigures(browser, server.url, row);
await endurance(server.url, row);

await browser.close();
await server.close();
