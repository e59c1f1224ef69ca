// CPython beside wasm: the CPU topics' Python programs, exactly as the page shows them, run under
// this machine's CPython, and their speedups printed next to the wasm modes that make the same
// claim. This checks the simulated GIL against the real one: CPython's threads should gain nothing
// on CPU work, its processes nearly 2x, like the page's "GIL threads" and isolated workers.
// Pure Python is about 50x slower than the wasm kernels, so the programs run with smaller
// constants (a second or two of sequential work each); speedups, not times, are compared.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * For each topic: the constants to replace, and which printed timing (CPython) makes the same
 * claim as which mode (wasm). The first printed timing is the baseline, as the first mode is.
 * @type {Record<string, {constants: Record<string, string>, pairs: Record<string, string>}>}
 */
const CASES = {
  'cpu-map': { constants: { NUMBERS: '3_000_000' }, pairs: { pool: 'workers' } },
  gil: { constants: { LIMIT: '12_000_000' }, pairs: { threads: 'gil', processes: 'workers' } },
  'process-pool': { constants: { LO: '0', HI: '300_000', RANGES: '16', WORKERS: '2' }, pairs: { pool: 'pool of 2' } },
};

/**
 * `program` with each `NAME = value` line's value replaced (its comment kept).
 * @param {string} program
 * @param {Record<string, string>} constants
 */
function withConstants(program, constants) {
  for (const name of Object.keys(constants)) {
    if (!program.split('\n').some((line) => line.startsWith(`${name} = `)))
      throw new Error(`the program has no line \`${name} = ...\``);
  }
  return program
    .split('\n')
    .map((line) => {
      const name = Object.keys(constants).find((n) => line.startsWith(`${n} = `));
      if (!name) return line;
      const comment = line.indexOf('#');
      return `${name} = ${constants[name]}${comment < 0 ? '' : `  ${line.slice(comment)}`}`;
    })
    .join('\n');
}

/**
 * The `label seconds` lines a program printed, in order: one word, then a float (what
 * `time.perf_counter()` differences print). Not "tasks 4 workers 2" (cpu-map's first line, which
 * was once taken for its baseline: the pool then showed 8x on 2 cores) nor "sum 1234".
 * @param {string} output
 */
function timingsOf(output) {
  return output
    .split('\n')
    .map((line) => line.match(/^([a-z]+) (\d+\.\d+(?:e-?\d+)?)$/))
    .filter((m) => m !== null)
    .map((m) => /** @type {[string, number]} */ ([m[1], Number(m[2])]));
}

/**
 * Runs every case under `python` (3 times, medians) and prints CPython's speedups beside wasm's.
 * @param {string} python the interpreter
 * @param {string} textsDir where the build wrote each topic's texts (`<id>.json`)
 * @param {Record<string, Record<string, number>>} wasm speedups over the first mode, per topic and mode, from this bench run
 * @param {(what: string, value: string, target?: string) => void} row
 */
export function cpythonBesideWasm(python, textsDir, wasm, row) {
  const median = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
  const dir = mkdtempSync(join(tmpdir(), 'cpython-bench-'));
  console.log(
    `\nCPython beside wasm: each topic's Python under ${execFileSync(python, ['--version'], { encoding: 'utf8' }).trim()}, smaller constants, median of 3; speedup over the first timing`,
  );
  try {
    for (const [topic, { constants, pairs }] of Object.entries(CASES)) {
      const program = withConstants(
        JSON.parse(readFileSync(join(textsDir, `${topic}.json`), 'utf8')).python,
        constants,
      );
      const file = join(dir, `${topic}.py`);
      writeFileSync(file, program);
      /** @type {Record<string, number[]>} */
      const seconds = {};
      for (let i = 0; i < 3; i++) {
        for (const [label, s] of timingsOf(execFileSync(python, [file], { encoding: 'utf8', timeout: 300_000 }))) {
          seconds[label] ??= [];
          seconds[label].push(s);
        }
      }
      const labels = Object.keys(seconds);
      const base = median(seconds[labels[0]]);
      row(
        `${topic}: CPython ${labels[0]} (s; ${Object.entries(constants)
          .map(([k, v]) => `${k} = ${v}`)
          .join(', ')})`,
        base.toFixed(2),
      );
      for (const [label, mode] of Object.entries(pairs)) {
        const speedup = base / median(seconds[label] ?? [NaN]);
        const theirs = wasm[topic]?.[mode];
        row(
          `${topic}: CPython ${label}`,
          `${speedup.toFixed(2)}x`,
          `wasm ${mode}: ${Number.isFinite(theirs) ? `${theirs.toFixed(2)}x` : 'n/a'}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
