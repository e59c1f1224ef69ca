// One isolated worker: its own wasm instance and memory; it only talks by messages.

import { holdLife } from './liveness.js';

/**
 * @typedef {import('../js/types.js').IsolatedRequest} IsolatedRequest
 * @typedef {import('../js/types.js').IsolatedMessage} IsolatedMessage
 */

const now = () => performance.timeOrigin + performance.now();
/** @type {any} the wasm-bindgen glue, imported at run time (its module has no types) */
let glue;
/** Jobs run one at a time, in the order they came, even while one sleeps before it starts. */
let queue = Promise.resolve();

/** @param {IsolatedMessage} message */
const reply = (message, transfer = /** @type {Transferable[]} */ ([])) => self.postMessage(message, { transfer });

self.addEventListener('message', (/** @type {MessageEvent<IsolatedRequest>} */ { data }) => {
  if (data.type === 'init') queue = queue.then(() => init(data.glue, data.module, data.warmUp, data.life));
  else if (data.type === 'job') queue = queue.then(() => job(data));
});

/**
 * @param {string} glueUrl
 * @param {WebAssembly.Module} module compiled once by the pool
 * @param {boolean} warmUp
 * @param {string} life the lock this worker holds while it lives
 */
async function init(glueUrl, module, warmUp, life) {
  try {
    await holdLife(life); // released when this worker ends, however it ends (see liveness.js)
    glue = await import(glueUrl);
    await glue.default({ module_or_path: module });
    glue.install_panic_hook();
    // Every job once on a small input: browsers optimize a wasm function only after it has run
    // a while, and use the optimized code from its next call on.
    if (warmUp) glue.warm_up();
    reply({ type: 'ready' });
  } catch (error) {
    reply({ type: 'failed', message: String(error) });
  }
}

/**
 * Sleeps `pauseMs` on a timer (no shared memory to block on here, and no core kept busy), then runs the job.
 * @param {Extract<IsolatedRequest, {type: 'job'}>} request
 */
async function job({ seq, job: name, input, pauseMs }) {
  const paused = now();
  if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  const start = now();
  try {
    /** @type {Uint8Array} */
    const output = glue.run_job(name, input);
    reply({ type: 'done', seq, output, paused, start, end: now() }, [output.buffer]);
  } catch (error) {
    // A trapped instance cannot be trusted again: the pool fails this job and replaces the worker.
    // (A panic already said so through the hook; an allocation that failed aborts without it.)
    reply({ type: 'panic', message: trapMessage(error) });
  }
}

/**
 * What trapped: out of memory (the allocator noted a failed allocation), or the error itself.
 * @param {unknown} error
 */
function trapMessage(error) {
  let failed = 0;
  try {
    failed = glue.failed_allocation_bytes();
  } catch {
    // The instance is gone too far to ask; the error says what it can.
  }
  if (failed > 0)
    return `out of memory: it asked for ${(failed / 1e6).toFixed(1)} MB more than its memory could grow to (${error})`;
  return String(error);
}
