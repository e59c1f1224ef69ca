// The engine: a dedicated Worker that runs every topic, so the page's main thread never blocks.
// Threads need Atomics.wait, which the main thread may not use; rayon called from the main
// thread would spin and freeze the page. In a cross-origin isolated page it loads the threaded
// build (shared memory); otherwise the plain one, where only thread modes are unavailable.

import { IsolatedPools } from './isolated-pool.js';

const flavor = self.crossOriginIsolated ? 'threads' : 'plain';
/** Threads or isolated workers kept warm for one topic, at most. */
const MAX_WARM = 32;
const glueUrl = new URL(`../pkg/${flavor}/playground.js`, import.meta.url).href;
const pools = new IsolatedPools(new URL('../pkg/plain/playground.js', import.meta.url).href);

// What the Rust engines import from their host (see src/engines/*.rs).
Object.assign(self, {
  playgroundHost: {
    // A MessageChannel round trip yields to the event loop without setTimeout's 4 ms clamp.
    yieldNow: () =>
      new Promise((resolve) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => resolve(undefined);
        channel.port2.postMessage(null);
      }),
    poolWarm: (size) => pools.warm(size).catch(() => {}),
    poolStart: (size, cold) => pools.start(size, cold),
    poolRun: (pool, worker, job, input, pauseMs) => pools.run(pool, worker, job, input, pauseMs),
    poolStop: (pool) => pools.stop(pool),
    poolKill: (pool, worker) => pools.kill(pool, worker),
  },
});

/** @type {any} */
let engine;
/** @type {any} the wasm instance's exports */
let exports;
/** @type {Promise<unknown> | null} */
let rayonPool = null;
let caps = { threads: false, cores: 1, isolated: self.crossOriginIsolated, flavor };
let running = false;
/** @type {{topic: string, params: any} | null} a prepare that came during a run, for after it */
let deferredPrepare = null;

async function boot() {
  const started = performance.now();
  engine = await import(glueUrl);
  exports = await engine.default();
  engine.install_panic_hook();
  const threads = flavor === 'threads' && engine.threaded_build();
  caps = { threads, cores: navigator.hardwareConcurrency || 1, isolated: self.crossOriginIsolated, flavor };
  self.postMessage({ type: 'ready', catalog: engine.catalog(), caps, bootMs: performance.now() - started });
  // After "ready", so the first paint does not wait: rayon's pool starts, and every isolated-
  // worker job runs once here, so the kernels that sequential and thread modes share are
  // optimized before the first timed run (a browser optimizes a wasm function only after it has
  // run a while, and uses that code from its next call on; threads share the compiled module).
  if (threads) rayonPool = engine.initThreadPool(caps.cores);
  engine.warm_up();
}

/**
 * Starts, in the background, the threads and isolated workers a run of `topic` with `params`
 * can use at once (the topic says how many), so that a run measures them and not their start.
 */
function prepare(topic, params) {
  if (running) {
    deferredPrepare = { topic, params };
    return;
  }
  const needs = JSON.parse(engine.needs(topic, JSON.stringify(params ?? {})));
  if (caps.threads && needs.threads > 0) engine.warm_threads(Math.min(Math.max(needs.threads, caps.cores), MAX_WARM));
  if (needs.workers > 0) pools.warm(Math.min(needs.workers, MAX_WARM)).catch(() => {});
}

/** Posts what the running topic recorded since the last look. */
function drain(id) {
  const text = engine.drain_run();
  if (text) self.postMessage({ type: 'progress', id, drained: JSON.parse(text) });
}

async function run(id, topic, params) {
  if (running) {
    self.postMessage({ type: 'done', id, outcome: { outcome: 'rejected', message: 'Another run is still going.', errors: [] } });
    return;
  }
  running = true;
  const timer = setInterval(() => drain(id), 100);
  try {
    if (rayonPool) await rayonPool;
    const text = await engine.run_topic(topic, JSON.stringify(params), caps.threads, caps.cores);
    drain(id);
    const outcome = JSON.parse(text);
    // Images travel as typed arrays (transferred, not copied a second time).
    const transfer = [];
    for (const image of outcome.report?.images ?? []) {
      image.rgba = new Uint8ClampedArray(image.rgba);
      transfer.push(image.rgba.buffer);
    }
    self.postMessage({ type: 'done', id, outcome }, { transfer });
  } finally {
    clearInterval(timer);
    running = false;
    if (deferredPrepare) prepare(deferredPrepare.topic, deferredPrepare.params);
    deferredPrepare = null;
  }
}

/** The diagnostics page's checks: is the memory really shared, and do threads work? */
async function selfTest() {
  const shared = exports.memory.buffer instanceof SharedArrayBuffer;
  const base = { caps, shared };
  if (!caps.threads) return { ...base, findings: [] };
  return { ...base, findings: JSON.parse(await engine.self_test(Math.max(4, caps.cores))) };
}

self.addEventListener('message', async ({ data }) => {
  switch (data?.type) {
    case 'check':
      self.postMessage({ type: 'checked', id: data.id, result: JSON.parse(engine.check_params(data.topic, JSON.stringify(data.params), data.lenient)) });
      break;
    case 'run':
      await run(data.id, data.topic, data.params);
      break;
    case 'prepare':
      prepare(data.topic, data.params);
      break;
    case 'selftest':
      self.postMessage({ type: 'checked', id: data.id, result: await selfTest() });
      break;
    case 'bench':
      self.postMessage({ type: 'checked', id: data.id, result: JSON.parse(await engine.bench(data.name, data.arg)) });
      break;
    case 'stop':
      engine?.stop_run();
      break;
  }
});

boot().catch((error) => self.postMessage({ type: 'failed', message: String(error?.stack ?? error) }));
