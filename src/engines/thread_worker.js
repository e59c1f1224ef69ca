// A wasm thread is a Web Worker running this very file: it instantiates the same module on the
// same shared memory and calls the Rust closure it was handed (the approach of wasm-bindgen-rayon,
// whose worker helper also spawns itself). wasm-bindgen copies this file next to its glue.

const PREFIX = 'wasm-thread:';
const live = new Set(); // keep Worker objects reachable so no browser collects a running thread

if (typeof WorkerGlobalScope !== 'undefined' && self.name.startsWith(PREFIX)) {
  self.addEventListener('message', async ({ data }) => {
    if (data?.type !== 'wasm-thread-start') return;
    const glue = await import(data.glue);
    const exports = await glue.default({ module_or_path: data.module, memory: data.memory });
    try {
      glue.thread_entry(data.entry);
      exports.__wbindgen_thread_destroy(); // frees this thread's stack and thread-locals
    } catch (error) {
      // A Rust panic aborts (traps) the thread: tell whoever spawned it.
      self.postMessage({ type: 'panic', message: `${self.name.slice(PREFIX.length)}: ${error}` });
    }
    self.postMessage({ type: 'wasm-thread-exit' });
    self.close();
  });
}

/** Starts a thread in a new Worker; `entry` points at the boxed Rust closure. */
export function spawnThread(module, memory, glue, entry, name) {
  const worker = new Worker(import.meta.url, { type: 'module', name: PREFIX + name });
  live.add(worker);
  worker.addEventListener('message', ({ data }) => {
    if (data?.type === 'wasm-thread-exit') live.delete(worker);
    // Panics travel up the chain of spawners to the engine, which tells the page.
    else if (data?.type === 'panic') self.postMessage(data);
  });
  worker.addEventListener('error', (event) => {
    self.postMessage({ type: 'panic', message: `${name} failed to start: ${event.message}` });
  });
  worker.postMessage({ type: 'wasm-thread-start', module, memory, glue, entry });
}
