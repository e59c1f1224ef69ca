// A wasm thread is a Web Worker running this very file: it instantiates the same module on the
// same shared memory and calls the Rust closure it was handed (the approach of wasm-bindgen-rayon,
// whose worker helper also spawns itself). wasm-bindgen copies this file next to its glue.
//
// Starting a Worker and instantiating the module costs tens of milliseconds, against tens of
// microseconds for a native thread. So a thread whose closure has returned stays alive for a
// while, idle, and the next spawn runs on it (as Emscripten's pthread pool does); its stack and
// thread-locals are reused. `spawnThread(..., fresh = true)` always starts a new Worker, for
// measuring that cost.

const PREFIX = 'wasm-thread:';
const MAX_IDLE = 16;
const IDLE_MS = 30_000; // how long an idle thread beyond the first KEEP waits for work
const KEEP = navigator.hardwareConcurrency || 2; // this many idle threads stay however long
const live = new Set(); // keep Worker objects reachable so no browser collects a running thread
/** @type {{worker: Worker, timer: ReturnType<typeof setTimeout>}[]} threads waiting for work */
const idle = [];

if (typeof WorkerGlobalScope !== 'undefined' && self.name.startsWith(PREFIX)) {
  /** @type {any} */
  let glue = null;
  /** @type {any} */
  let exports = null;
  self.addEventListener('message', async ({ data }) => {
    if (data?.type === 'wasm-thread-retire') {
      exports?.__wbindgen_thread_destroy(); // frees this thread's stack and thread-locals
      self.close();
      return;
    }
    if (data?.type !== 'wasm-thread-start') return;
    if (!glue) {
      glue = await import(data.glue);
      exports = await glue.default({ module_or_path: data.module, memory: data.memory });
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
  const worker = new Worker(import.meta.url, { type: 'module', name: PREFIX + name });
  live.add(worker);
  worker.addEventListener('message', ({ data }) => {
    if (data?.type === 'wasm-thread-idle') park(worker);
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
  worker.postMessage(start);
}

/** Keeps a finished thread for the next spawn, or retires it when enough are waiting. */
function park(worker) {
  if (idle.length >= MAX_IDLE) return retire(worker);
  const entry = { worker, timer: /** @type {any} */ (0) };
  entry.timer = setTimeout(() => {
    if (idle.length <= KEEP) return;
    idle.splice(idle.indexOf(entry), 1);
    retire(worker);
  }, IDLE_MS);
  idle.push(entry);
}

function retire(worker) {
  live.delete(worker);
  worker.postMessage({ type: 'wasm-thread-retire' });
}
