// A wasm thread is a Web Worker running this very file: it instantiates the same module on the
// same shared memory and calls the Rust entry it was handed (the approach of wasm-bindgen-rayon,
// whose worker helper also spawns itself). wasm-bindgen copies this file next to its glue.
//
// The entry runs the thread's first work and then waits, in Rust, for more (see the pool in
// threads.rs); it returns only when the thread retires, and then the Worker ends.

const PREFIX = 'wasm-thread:';
const live = new Set(); // keep Worker objects reachable so no browser collects a running thread

// Panics go to the top spawner (the engine) on a BroadcastChannel, not up the chain of spawners:
// a thread started by another thread would post to that one, whose event loop never runs again
// once it is back in Rust (busy, or idle in the pool), so the panic would go unheard.
/** @type {string | undefined} in a thread, the channel's name (the engine's, handed down) */
let panicChannel;
/** @type {string | undefined} in the engine, the channel it listens on, opened at its first thread */
let enginePanics;

/**
 * Tells the engine a thread panicked (from Rust's panic hook, and when a thread traps).
 * @param {string} message
 */
export function reportPanic(message) {
  if (panicChannel === undefined) return self.postMessage({ type: 'panic', message });
  const channel = new BroadcastChannel(panicChannel);
  channel.postMessage({ type: 'panic', message });
  channel.close();
}

/** Opens the engine's channel for its threads' panics, which it passes on to its owner. */
function listenForPanics() {
  const name = `${PREFIX}panics:${crypto.randomUUID()}`;
  new BroadcastChannel(name).addEventListener('message', ({ data }) => self.postMessage(data));
  return name;
}

// (WorkerGlobalScope is read off globalThis: the checked libraries are the page's, not a worker's.)
if (
  typeof (/** @type {{WorkerGlobalScope?: unknown}} */ (globalThis).WorkerGlobalScope) !== 'undefined' &&
  self.name.startsWith(PREFIX)
) {
  self.addEventListener('message', async (/** @type {MessageEvent<any>} */ { data }) => {
    // (any: the spawner's message, checked by its type; the glue it names has no types)
    if (data?.type !== 'wasm-thread-start') return;
    panicChannel = data.panicChannel;
    const glue = await import(data.glue);
    const exports = await glue.default({ module_or_path: data.module, memory: data.memory });
    try {
      glue.thread_entry(data.entry);
    } catch (error) {
      // A Rust panic aborts (traps) the thread, and its instance with it: tell the engine (it
      // restarts everything: the shared memory cannot be trusted any more).
      reportPanic(`${data.name}: ${error}`);
      self.close();
      return;
    }
    exports.__wbindgen_thread_destroy(); // frees this thread's stack and thread-locals
    self.postMessage({ type: 'wasm-thread-exit' });
    self.close();
  });
}

/**
 * Starts a new thread that runs the Rust entry at address `entry`.
 * @param {WebAssembly.Module} module
 * @param {WebAssembly.Memory} memory shared
 * @param {string} glue the wasm-bindgen glue's URL
 * @param {number} entry
 * @param {string} name
 */
export function startThread(module, memory, glue, entry, name) {
  const worker = new Worker(import.meta.url, { type: 'module', name: PREFIX + name });
  live.add(worker);
  worker.addEventListener('message', ({ data }) => {
    if (data?.type === 'wasm-thread-exit') live.delete(worker);
  });
  worker.addEventListener('error', (event) => {
    live.delete(worker);
    reportPanic(`${name} failed to start: ${event.message}`);
  });
  if (panicChannel === undefined) enginePanics ??= listenForPanics();
  const panics = panicChannel ?? enginePanics;
  worker.postMessage({ type: 'wasm-thread-start', module, memory, glue, entry, name, panicChannel: panics });
}
