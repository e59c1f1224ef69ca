// A wasm thread is a Web Worker running this very file: it instantiates the same module on the
// same shared memory and calls the Rust closure it was handed (the approach of wasm-bindgen-rayon,
// whose worker helper also spawns itself). wasm-bindgen copies this file next to its glue.
//
// Starting a Worker and instantiating the module costs tens of milliseconds, against tens of
// microseconds for a native thread. So threads are pooled, as Emscripten's pthread pool does:
// `warmThreads(n)` starts idle threads ahead of time (the engine asks when the page shows a
// topic), a thread whose closure has returned waits for the next spawn, and a spawn takes an
// idle thread, even one still loading (its start message waits in the Worker's queue). A reused
// thread keeps its stack and thread-locals. `spawnThread(..., fresh = true)` always starts a new
// Worker, for measuring that cost.

const PREFIX = 'wasm-thread:';
const MAX_IDLE = 32;
const IDLE_MS = 30_000; // how long an idle thread beyond the kept ones waits for work
/** Idle threads that stay however long: one per core, or what the shown topic can use. */
let keep = navigator.hardwareConcurrency || 2;
const live = new Set(); // keep Worker objects reachable so no browser collects a running thread
/** @typedef {{worker: Worker, ready: boolean, timer?: ReturnType<typeof setTimeout>}} Idle */
/** @type {Idle[]} threads waiting for work, the ready ones last (taken first) */
const idle = [];

if (typeof WorkerGlobalScope !== 'undefined' && self.name.startsWith(PREFIX)) {
  /** @type {Promise<{glue: any, exports: any}> | null} once this thread has instantiated the module */
  let loading = null;
  self.addEventListener('message', async ({ data }) => {
    if (data?.type === 'wasm-thread-life') return holdLife(data.life);
    if (data?.type === 'wasm-thread-retire') {
      (await loading)?.exports.__wbindgen_thread_destroy(); // frees this thread's stack and thread-locals
      self.close();
      return;
    }
    if (data?.type !== 'wasm-thread-start' && data?.type !== 'wasm-thread-warm') return;
    loading ??= import(data.glue).then(async (glue) => ({
      glue,
      exports: await glue.default({ module_or_path: data.module, memory: data.memory }),
    }));
    const { glue } = await loading;
    if (data.type === 'wasm-thread-warm') {
      self.postMessage({ type: 'wasm-thread-warmed' });
      return;
    }
    try {
      glue.thread_entry(data.entry);
    } catch (error) {
      // A Rust panic aborts (traps) the thread, and its instance with it: tell whoever spawned
      // it, and never reuse it.
      self.postMessage({ type: 'panic', message: `${data.name}: ${error}` });
      self.close();
      return;
    }
    self.postMessage({ type: 'wasm-thread-idle' });
  });
}

/** Starts a thread (on an idle one, unless `fresh`); `entry` points at the boxed Rust closure. */
export function spawnThread(module, memory, glue, entry, name, fresh) {
  const start = { type: 'wasm-thread-start', module, memory, glue, entry, name };
  const reused = fresh ? undefined : idle.pop();
  if (reused) {
    clearTimeout(reused.timer);
    reused.worker.postMessage(start);
    return;
  }
  newThread(name).postMessage(start);
}

/** Makes sure `n` idle threads exist (capped), starting the missing ones in the background. */
export function warmThreads(module, memory, glue, n) {
  keep = Math.max(navigator.hardwareConcurrency || 2, Math.min(n, MAX_IDLE));
  for (let i = idle.length; i < keep; i++) {
    const worker = newThread(`idle ${i + 1}`);
    idle.unshift({ worker, ready: false }); // not ready yet: taken after the ready ones
    worker.postMessage({ type: 'wasm-thread-warm', module, memory, glue });
  }
}

function newThread(name) {
  const worker = new Worker(import.meta.url, { type: 'module', name: PREFIX + name });
  live.add(worker);
  const life = `playground-thread-${globalThis.crypto?.randomUUID?.() ?? Math.random()}`;
  worker.postMessage({ type: 'wasm-thread-life', life });
  worker.addEventListener('message', ({ data }) => {
    if (data?.type === 'wasm-thread-alive') watchLife(life, () => lost(worker, name));
    else if (data?.type === 'wasm-thread-idle') park(worker);
    else if (data?.type === 'wasm-thread-warmed') {
      const entry = idle.find((e) => e.worker === worker);
      if (entry) entry.ready = true;
    }
    // Panics travel up the chain of spawners to the engine, which tells the page.
    else if (data?.type === 'panic') {
      live.delete(worker);
      self.postMessage(data);
    }
  });
  worker.addEventListener('error', (event) => {
    live.delete(worker);
    self.postMessage({ type: 'panic', message: `${name} failed to start: ${event.message}` });
  });
  return worker;
}

// ----- a thread that ends without a word (the browser ended its Worker) -----
// It holds a Web Lock while it lives; its spawner is granted the lock when it ends (see
// www/engine/liveness.js: this file is copied next to the wasm glue, so it keeps its own copy).

function holdLife(life) {
  navigator.locks?.request(life, () => {
    self.postMessage({ type: 'wasm-thread-alive' });
    return new Promise(() => {}); // held until this thread ends
  });
}

function watchLife(life, onLost) {
  navigator.locks?.request(life, () => onLost()).catch(() => {});
}

/** An idle thread that is gone is forgotten; a running one fails its run (the engine is replaced). */
function lost(worker, name) {
  if (!live.delete(worker)) return; // retired or crashed on purpose
  const waiting = idle.findIndex((e) => e.worker === worker);
  if (waiting >= 0) {
    clearTimeout(idle[waiting].timer);
    idle.splice(waiting, 1);
    return;
  }
  self.postMessage({ type: 'panic', lost: true, message: `${name} was lost: the browser ended its worker` });
}

/** Keeps a finished thread for the next spawn, or retires it when enough are waiting. */
function park(worker) {
  if (idle.length >= MAX_IDLE) return retire(worker);
  /** @type {Idle} */
  const entry = { worker, ready: true };
  entry.timer = setTimeout(() => {
    if (idle.length <= keep || !idle.includes(entry)) return;
    idle.splice(idle.indexOf(entry), 1);
    retire(worker);
  }, IDLE_MS);
  idle.push(entry);
}

function retire(worker) {
  live.delete(worker);
  worker.postMessage({ type: 'wasm-thread-retire' });
}
