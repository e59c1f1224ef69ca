// The engine: a dedicated Worker that runs every topic, so the page's main thread never blocks.
// Threads need Atomics.wait, which the main thread may not use; rayon called from the main
// thread would spin and freeze the page. In a cross-origin isolated page it loads the threaded
// build (shared memory); otherwise the plain one, where only thread modes are unavailable.

import { IsolatedPools } from './isolated-pool.js';

const flavor = self.crossOriginIsolated ? 'threads' : 'plain';
const WARM_UP_AFTER_MS = 1500;
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
    poolStart: (size) => pools.start(size),
    poolRun: (pool, worker, job, input, pauseMs) => pools.run(pool, worker, job, input, pauseMs),
    poolStop: (pool) => pools.stop(pool),
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

async function boot() {
  const started = performance.now();
  engine = await import(glueUrl);
  exports = await engine.default();
  engine.install_panic_hook();
  const threads = flavor === 'threads' && engine.threaded_build();
  caps = { threads, cores: navigator.hardwareConcurrency || 1, isolated: self.crossOriginIsolated, flavor };
  self.postMessage({ type: 'ready', catalog: engine.catalog(), caps, bootMs: performance.now() - started });
  // rayon's pool starts after "ready" so the first paint does not wait for it. A little later,
  // off the first load: one idle thread per core (a new wasm thread is a Web Worker, tens of
  // milliseconds to start; a runtime keeps threads around the same way), and the isolated
  // workers' module is compiled (a once-per-page cost, like having Python on disk). Each
  // isolated worker's own start-up stays inside the runs that measure it.
  if (threads) rayonPool = engine.initThreadPool(caps.cores);
  setTimeout(() => {
    if (threads && !running) engine.warm_threads(caps.cores);
    pools.compiled().catch(() => {});
  }, WARM_UP_AFTER_MS);
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
