// The engine: a dedicated Worker that runs every topic, so the page's main thread never blocks.
// Threads need Atomics.wait, which the main thread may not use; rayon called from the main
// thread would spin and freeze the page. In a cross-origin isolated page it loads the threaded
// build (shared memory); otherwise the plain one, where only thread modes are unavailable.

import { engineFlavor, glueUrl } from './flavor.js';
import { holdLife } from './liveness.js';
import { installWorkerShim } from './worker-host.js';

/**
 * @typedef {import('../js/types.js').EngineMessage} EngineMessage
 * @typedef {import('../js/types.js').EngineRequest} EngineRequest
 * @typedef {import('../js/types.js').Values} Values
 * @typedef {import('../js/types.js').LogLine} LogLine
 * @typedef {import('../js/types.js').Span} Span
 * @typedef {import('../js/types.js').Progress} Progress
 */

/**
 * Posts to the page, checked against the messages it understands.
 * @param {EngineMessage} message
 * @param {Transferable[]} [transfer]
 */
const toPage = (message, transfer = []) => self.postMessage(message, { transfer });

// The page makes every worker the engine asks for (worker-host.js says why): this port goes to
// it first, and `new Worker` here (threads, rayon, isolated workers) asks over it.
const host = new MessageChannel();
installWorkerShim(host.port1);
toPage({ type: 'worker-host', port: host.port2 }, [host.port2]);

/** The build this worker runs: the page says (it may fall back to the plain one); until then, this browser's. */
let flavor = engineFlavor();
/** @type {(part: string) => void} */
let receivePart = () => {};
/** Which part of the engine this worker runs (the threaded build comes in parts): the page says first. */
const partKnown = new Promise((resolve) => (receivePart = resolve));
/** @type {(module: WebAssembly.Module | null) => void} */
let receiveModule = () => {};
/**
 * The wasm module the page compiled for us (see engine-client.js), or null: fetch it here. It
 * comes after the part, so the glue loads while the page still compiles.
 * @type {Promise<WebAssembly.Module | null>}
 */
const compiled = new Promise((resolve) => (receiveModule = resolve));
/** Threads or isolated workers kept warm for one topic, at most. */
const MAX_WARM = 32;
/** How long a run waits at most for the threads and workers `prepare` started to be running. */
const SETTLE_MS = 5_000;
/** @type {string} the plain build's glue of this worker's part, which isolated workers run (set in `boot`) */
let plainGlue = '';
/** @type {import('./isolated-pool.js').IsolatedPools | null} isolated workers, once a topic has asked for them */
let pools = null;
/** @type {Promise<import('./isolated-pool.js').IsolatedPools> | null} */
let poolsLoading = null;
/** The isolated-worker pool's module loads when a topic first asks for workers: many never do. */
const loadPools = () =>
  (poolsLoading ??= import('./isolated-pool.js').then(({ IsolatedPools }) => (pools = new IsolatedPools(plainGlue))));

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
    poolWarm: (/** @type {number} */ size) =>
      loadPools()
        .then((p) => p.warm(size))
        .catch(() => {}),
    poolStart: async (/** @type {number} */ size, /** @type {boolean} */ cold) => (await loadPools()).start(size, cold),
    poolRun: (
      /** @type {number} */ pool,
      /** @type {number} */ worker,
      /** @type {string} */ job,
      /** @type {Uint8Array} */ input,
      /** @type {number} */ pauseMs,
    ) => loadPools().then((p) => p.run(pool, worker, job, input, pauseMs)),
    // A pool to stop or kill in was started, so the module has loaded.
    poolStop: (/** @type {number} */ pool) => pools?.stop(pool),
    poolKill: (/** @type {number} */ pool, /** @type {number} */ worker) => pools?.kill(pool, worker),
    // Rust calls this (at most once a second) while it computes without yielding: see host::beat.
    beat: () => runningId !== null && toPage({ type: 'heartbeat', id: runningId }),
  },
});

/** @type {any} the wasm-bindgen glue, imported at run time (its module has no types) */
let engine;
/** @type {any} the wasm instance's exports (the glue's too) */
let exports;
/** @type {Promise<unknown> | null} */
let rayonPool = null;
/** @type {import('../js/types.js').Caps} */
let caps = { threads: false, cores: 1, isolated: self.crossOriginIsolated, flavor };
let running = false;
/** @type {number | null} the run in progress, for heartbeats sent from inside Rust */
let runningId = null;
/** Set when Stop comes before the running request reached Rust (while it waits in `settled`). */
let stopAsked = false;
let stopWaiting = () => {};
/** @type {{topic: string, params: Values} | null} a prepare that came during a run, for after it */
let deferredPrepare = null;

async function boot() {
  const started = performance.now();
  const part = await partKnown;
  plainGlue = glueUrl('plain', part);
  engine = await import(glueUrl(flavor, part));
  const module = await compiled;
  exports = await engine.default(module ? { module_or_path: module } : undefined);
  engine.install_panic_hook();
  const threads = flavor === 'threads' && engine.threaded_build();
  caps = { threads, cores: navigator.hardwareConcurrency || 1, isolated: self.crossOriginIsolated, flavor };
  toPage({ type: 'ready', caps, bootMs: performance.now() - started });
  // After "ready": rayon's pool starts, and the warm-up follows the page's first requests.
  startRayon();
  setTimeout(warmUp, WARM_UP_AFTER_MS);
}

/** Starts rayon's pool, once, in the threaded build; resolves once it runs. */
function startRayon() {
  if (caps.threads) rayonPool ??= engine.initThreadPool(caps.cores);
  return rayonPool;
}

/**
 * Every isolated-worker job runs once, so the kernels that sequential and thread modes share are
 * optimized before the first timed run (a browser optimizes a wasm function only after it has run
 * a while, and uses that code from its next call on; threads share the compiled module). It takes
 * the engine's thread for 100-200 ms: after the page's first check and prepare (which the page
 * waits for to enable Run), or before a run at the latest.
 */
function warmUp() {
  if (warmedUp) return;
  warmedUp = true;
  engine.warm_up();
}
let warmedUp = false;
const WARM_UP_AFTER_MS = 300;

/**
 * Starts, in the background, the threads and isolated workers a run of `topic` with `params`
 * can use at once (the topic says how many), so that a run measures them and not their start.
 * @param {string} topic
 * @param {Values} params
 */
function prepare(topic, params) {
  if (running) {
    deferredPrepare = { topic, params };
    return;
  }
  /** @type {import('../js/types.js').Needs} */
  const needs = JSON.parse(engine.needs(topic, JSON.stringify(params ?? {})));
  if (caps.threads && needs.threads > 0) engine.warm_threads(Math.min(Math.max(needs.threads, caps.cores), MAX_WARM));
  if (needs.workers > 0) warmWorkers(Math.min(needs.workers, MAX_WARM));
  setTimeout(warmUp); // after the page's check, which came first
}

/**
 * Isolated workers run this part's plain build, another 210-280 KB gzip to fetch and compile
 * where the engine runs the threaded one: not during the page's first QUIET_MS (its first
 * load), unless a run wants them sooner (`warmWorkersNow`).
 */
const QUIET_MS = 2_000;
/** @type {{n: number, timer: ReturnType<typeof setTimeout>} | null} a warm-up waiting for QUIET_MS */
let pendingWarm = null;

/** @param {number} n */
function warmWorkers(n) {
  if (pendingWarm) clearTimeout(pendingWarm.timer);
  pendingWarm = null;
  const wait = QUIET_MS - performance.now();
  if (wait <= 0) {
    warmPools(n);
    return;
  }
  pendingWarm = { n, timer: setTimeout(() => warmWorkers(n), wait) };
}

function warmWorkersNow() {
  if (!pendingWarm) return;
  clearTimeout(pendingWarm.timer);
  warmPools(pendingWarm.n);
  pendingWarm = null;
}

/** @param {number} n */
function warmPools(n) {
  loadPools()
    .then((p) => p.warm(n))
    .catch(() => {});
}

/**
 * Resolves once the threads and isolated workers that `prepare` started are running (or after
 * SETTLE_MS): while they load (a Web Worker starting, a module instantiating, its jobs warming
 * up) they take the cores a run's first mode would measure with, and on a 2-core machine the
 * first click would then show parallel modes faster than they are.
 */
async function settled() {
  const until = performance.now() + SETTLE_MS;
  const pause = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const stopped = new Promise((resolve) => (stopWaiting = () => resolve(undefined)));
  // No pool module loaded: no isolated worker is starting.
  await Promise.race([poolsLoading?.then((p) => p.settled()), pause(SETTLE_MS), stopped]);
  while (caps.threads && engine.threads_starting() > 0 && performance.now() < until && !stopAsked) await pause(10);
}

/** Spans and log lines of the current run already posted in progress messages. */
const posted = { spans: 0, log: 0 };
/**
 * Spans or log lines per progress message at most, sent as JSON text: the page's main thread
 * takes each message in one go, parses text about twice as fast as it copies objects, and a busy
 * run can record 50,000 spans between two looks (seconds of copying at once).
 */
const PER_MESSAGE = 2000;
/** @type {Progress | null} */
let lastProgress = null;

/**
 * Posts spans and log lines in progress messages of a bounded size.
 * @param {number} id the run
 * @param {LogLine[]} log
 * @param {Span[]} spans
 * @param {Progress | null} progress
 * @param {string} [text] the same as `Drained` JSON, when it came as that
 */
function post(id, log, spans, progress, text = '') {
  posted.spans += spans.length;
  posted.log += log.length;
  lastProgress = progress;
  if (text && log.length <= PER_MESSAGE && spans.length <= PER_MESSAGE) {
    toPage({ type: 'progress', id, drained: text });
    return;
  }
  for (let i = 0; i === 0 || i < Math.max(log.length, spans.length); i += PER_MESSAGE) {
    const drained = { log: log.slice(i, i + PER_MESSAGE), spans: spans.slice(i, i + PER_MESSAGE), progress };
    toPage({ type: 'progress', id, drained: JSON.stringify(drained) });
  }
}

/**
 * Posts what the running topic recorded since the last look.
 * @param {number} id the run
 */
function drain(id) {
  /** @type {string} */
  const text = engine.drain_run();
  if (!text) return;
  /** @type {import('../js/types.js').Drained} */
  const { log, spans, progress } = JSON.parse(text);
  post(id, log, spans, progress, text);
}

/**
 * @param {number} id
 * @param {string} topic
 * @param {Values} params
 * @param {number} [stallMs] quiet this long before the watchdog looks closer
 */
async function run(id, topic, params, stallMs) {
  if (running) {
    toPage({ type: 'done', id, outcome: { outcome: 'rejected', message: 'Another run is still going.', errors: [] } });
    return;
  }
  running = true;
  runningId = id;
  stopAsked = false;
  posted.spans = posted.log = 0;
  lastProgress = null;
  const watch = watchdog(id, stallMs);
  const timer = setInterval(() => {
    drain(id);
    watch.tick();
  }, 100);
  try {
    await startRayon();
    warmUp();
    warmWorkersNow();
    await settled();
    if (stopAsked) {
      toPage({ type: 'done', id, outcome: { outcome: 'unsent', cause: 'stop' } });
      return;
    }
    const text = await engine.run_topic(topic, JSON.stringify(params), caps.threads, caps.cores);
    drain(id);
    // The report as Rust wrote it, turned here into what the page receives (`Report` in types.js).
    /** @type {import('../js/types.js').OutcomeOf<import('../js/types.js').ReportJson>} */
    const outcome = JSON.parse(text);
    if (outcome.outcome !== 'finished') {
      toPage({ type: 'done', id, outcome });
      return;
    }
    // Images and chart points travel as typed arrays (transferred, not copied a second time),
    // and spans and log lines only in progress messages (engine-client.js puts them back in
    // the report): a run at the form's limits records 200,000 spans and points, which the
    // page's main thread would take seconds to copy in one message.
    const written = outcome.report;
    // base64 in the JSON, like every byte string
    const images = written.images.map((image) => ({ ...image, rgba: bytesOf(image.rgba) }));
    const series = written.series.map((one) => ({ ...one, points: Float64Array.from(one.points.flat()) }));
    const transfer = [...images.map((image) => image.rgba.buffer), ...series.map((one) => one.points.buffer)];
    post(id, written.log.slice(posted.log), written.spans.slice(posted.spans), lastProgress);
    const report = { ...written, images, series, spans: [], log: [], posted: { ...posted } };
    toPage({ type: 'done', id, outcome: { outcome: 'finished', report } }, transfer);
  } finally {
    clearInterval(timer);
    watch.stop();
    running = false;
    runningId = null;
    if (deferredPrepare) prepare(deferredPrepare.topic, deferredPrepare.params);
    deferredPrepare = null;
  }
}

// ----- watchdog: no eternal "Running..." -----
// A run that records nothing for STALL_MS while every thread it started waits (or one never
// started) will not end by itself: Rust (src/watchdog.rs) says who waited for what and ends it,
// and the report shows that. Threads stuck where they cannot see that (a lock taken without a
// timeout) keep the run from ending: after WIND_DOWN_MS the page replaces the whole engine. A
// heartbeat tells the page that this worker itself is not blocked (`watchSilence` in
// run-controller.js).

/** Quiet this long (no log line, span, progress or chart point) before the watchdog looks closer. */
const STALL_MS = 15_000;
const WIND_DOWN_MS = 2_000;
const HEARTBEAT_MS = 1_000;

/** @param {number} id the run @param {number} [stallMs] */
function watchdog(id, stallMs = STALL_MS) {
  let last = engine.run_activity();
  let changed = performance.now();
  let beat = changed;
  let fired = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let windDown;
  return {
    tick() {
      const now = performance.now();
      if (now - beat >= HEARTBEAT_MS) {
        beat = now;
        toPage({ type: 'heartbeat', id });
      }
      const activity = engine.run_activity();
      if (activity !== last) {
        last = activity;
        changed = now;
        return;
      }
      if (fired || now - changed < stallMs) return;
      const reason = engine.watchdog(now - changed);
      if (!reason) return;
      fired = true;
      windDown = setTimeout(() => toPage({ type: 'stuck', id, reason }), WIND_DOWN_MS);
    },
    stop() {
      clearTimeout(windDown);
    },
  };
}

/**
 * The diagnostics page's checks: is the memory really shared, and do threads work?
 * @returns {Promise<import('../js/types.js').SelfTest>}
 */
async function selfTest() {
  const shared = exports.memory.buffer instanceof SharedArrayBuffer;
  const base = { caps, shared };
  if (!caps.threads) return { ...base, findings: [] };
  await startRayon();
  return { ...base, findings: JSON.parse(await engine.self_test(Math.max(4, caps.cores))) };
}

/**
 * Base64 text to bytes (as pixels for ImageData).
 * @param {string} base64
 */
function bytesOf(base64) {
  const text = atob(base64);
  const bytes = new Uint8ClampedArray(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

// Requests from the page (engine-client.js): 'run' is answered by progress messages and 'done';
// 'check-params', 'selftest', 'bench' and 'schedule' by one 'answer'; 'prepare', 'stop', 'life' and 'fault'
// by none.
self.addEventListener('message', async ({ data }) => {
  try {
    await handle(data);
  } catch (error) {
    failed(data, error);
  }
});

/** @param {EngineRequest} data */
async function handle(data) {
  switch (data?.type) {
    case 'check-params':
      toPage({
        type: 'answer',
        id: data.id,
        result: JSON.parse(engine.check_params(data.topic, JSON.stringify(data.params), data.lenient)),
      });
      break;
    case 'run':
      await run(data.id, data.topic, data.params, data.stallMs);
      break;
    case 'prepare':
      prepare(data.topic, data.params);
      break;
    case 'selftest':
      toPage({ type: 'answer', id: data.id, result: await selfTest() });
      break;
    case 'bench':
      await startRayon();
      toPage({ type: 'answer', id: data.id, result: JSON.parse(await engine.bench(data.name, data.arg)) });
      break;
    case 'schedule':
      toPage({
        type: 'answer',
        id: data.id,
        result: JSON.parse(
          (data.search ? engine.search_schedules : engine.schedule)(data.topic, JSON.stringify(data.request)),
        ),
      });
      break;
    case 'stop':
      stopAsked = running;
      stopWaiting();
      engine?.stop_run();
      break;
    case 'part':
      flavor = data.flavor;
      receivePart(data.part);
      break;
    case 'module':
      receiveModule(data.module);
      break;
    case 'life':
      await holdLife(data.name);
      toPage({ type: 'alive' });
      break;
    case 'fault':
      await fault(data);
      break;
  }
}

// ----- the supervisor's side in the engine: say what went wrong, the page replaces the engine -----

/**
 * A request that threw: a wasm trap means the instance is gone (the page restarts the engine);
 * anything else (say, parameters JSON cannot hold) is answered as that request's error.
 * @param {EngineRequest} data
 * @param {any} error whatever was thrown
 */
function failed(data, error) {
  if (error instanceof WebAssembly.RuntimeError || !engine) {
    crashed(error);
    return;
  }
  const message = `the request could not be handled: ${String(error?.message ?? error).slice(0, 200)}`;
  const id = /** @type {{id?: number} | null | undefined} */ (data)?.id;
  if (data?.type === 'run')
    toPage({
      type: 'done',
      id: data.id,
      outcome: { outcome: 'rejected', message: `Nothing ran: ${message}`, errors: [] },
    });
  else if (id !== undefined)
    toPage({ type: 'answer', id, result: { ok: false, params: {}, errors: [{ field: 'params', message }] } });
}

let reported = false;

/**
 * Tells the page the engine trapped, with what it knows of memory; only once (it will be replaced).
 * @param {any} error whatever was thrown, or an error event's message
 */
function crashed(error) {
  if (reported) return;
  reported = true;
  let failedAllocation = 0;
  try {
    failedAllocation = engine?.failed_allocation_bytes() ?? 0;
  } catch {
    // Too far gone to ask: the message says what it can.
  }
  const memoryBytes = exports?.memory?.buffer?.byteLength ?? 0;
  toPage({
    type: 'crashed',
    message: String(error?.message ?? error ?? 'unknown error').slice(0, 300),
    failedAllocation,
    memoryBytes,
    flavor,
  });
}

// A trap inside an async run surfaces here (the run's promise never settles).
self.addEventListener('error', (event) => {
  event.preventDefault();
  crashed(event.error ?? event.message);
});
self.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  crashed(event.reason);
});

/**
 * Fault injection for the tests, reachable only from code running inside this worker (the page
 * never sends it): `fill-memory` takes the wasm memory but for `leaveBytes`, so the next large
 * allocation fails for real; `thread-panic` starts a wasm thread that panics.
 * @param {Extract<EngineRequest, {type: 'fault'}>} request
 */
async function fault({ kind, leaveBytes = 2 << 20 }) {
  // Once rayon's threads have started: a thread that cannot start would be another fault.
  await startRayon();
  if (kind === 'fill-memory') engine.fault_fill_memory(leaveBytes);
  else if (kind === 'thread-panic') engine.fault_thread_panic();
}

boot().catch((error) => toPage({ type: 'failed', message: String(error?.stack ?? error) }));
