// How steady the machine is right now: one fixed loop timed 15 times on one core, then on both
// cores at once. Every figure the bench prints near it carries this noise: a one-core spread of
// 1.5x, or two loops at once each slower than one alone, says a first click's ratio means little.
// (One steady core is not enough: on 2026-12-08 the one-core spread stayed under 1.07x while
// cpu-map's first clicks went from 1.9x to 1.65x an hour apart.)
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

const ROUNDS = 15;

/** One round of the loop, in ms. */
function loop() {
  const start = performance.now();
  let x = 1;
  for (let i = 0; i < 30_000_000; i++) x = (x * 1_103_515_245 + 12_345) >>> 0;
  if (x === 42) console.log(''); // keeps the loop from being optimized away
  return performance.now() - start;
}

if (!isMainThread) parentPort?.postMessage(Array.from({ length: ROUNDS }, loop));

/**
 * Each round's time on `threads` threads running at once (the slowest thread's), sorted.
 * @param {number} threads
 * @returns {Promise<number[]>}
 */
async function rounds(threads) {
  const workers = Array.from({ length: threads }, () => new Worker(new URL(import.meta.url)));
  /** @type {number[][]} */
  const times = await Promise.all(
    workers.map((worker) => new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject))),
  );
  await Promise.all(workers.map((worker) => worker.terminate()));
  return times[0].map((_, k) => Math.max(...times.map((t) => t[k]))).sort((a, b) => a - b);
}

/**
 * Prints one row: the loop's median on one core, its spread, and how much slower each of two
 * loops at once ran (1.00x when both cores are fully ours).
 * @param {(what: string, value: string, target?: string) => void} row
 * @param {string} when
 */
export async function steadiness(row, when) {
  const one = await rounds(1);
  const two = await rounds(2);
  const mid = (/** @type {number[]} */ xs) => xs[(xs.length - 1) >> 1];
  row(
    `steadiness ${when}: a fixed loop, ${ROUNDS} times`,
    `${mid(one).toFixed(0)} ms`,
    `one core: ${one[0].toFixed(0)}-${one[ROUNDS - 1].toFixed(0)} ms (${(one[ROUNDS - 1] / one[0]).toFixed(2)}x); ` +
      `two at once: median ${(mid(two) / mid(one)).toFixed(2)}x, slowest ${(two[ROUNDS - 1] / mid(one)).toFixed(2)}x one core's median`,
  );
}
