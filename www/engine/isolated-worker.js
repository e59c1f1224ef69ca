// One isolated worker: its own wasm instance and memory; it only talks by messages.

const now = () => performance.timeOrigin + performance.now();
/** @type {any} */
let glue;
/** Jobs run one at a time, in the order they came, even while one sleeps before it starts. */
let queue = Promise.resolve();

self.addEventListener('message', ({ data }) => {
  if (data.type === 'init') queue = queue.then(() => init(data.glue, data.module, data.warmUp));
  else if (data.type === 'job') queue = queue.then(() => job(data));
});

async function init(glueUrl, module, warmUp) {
  try {
    glue = await import(glueUrl);
    await glue.default({ module_or_path: module });
    glue.install_panic_hook();
    // Every job once on a small input: browsers optimize a wasm function only after it has run
    // a while, and use the optimized code from its next call on.
    if (warmUp) glue.warm_up();
    self.postMessage({ type: 'ready' });
  } catch (error) {
    self.postMessage({ type: 'failed', message: String(error) });
  }
}

/** Sleeps `pauseMs` on a timer (no shared memory to block on here, and no core kept busy), then runs the job. */
async function job({ seq, job: name, input, pauseMs }) {
  const paused = now();
  if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  const start = now();
  try {
    const output = glue.run_job(name, input);
    self.postMessage({ type: 'done', seq, output, paused, start, end: now() }, { transfer: [output.buffer] });
  } catch (error) {
    // The panic hook already told the pool; a trapped instance cannot be trusted again.
    self.postMessage({ type: 'done', seq, error: `crashed: ${error}`, paused, start, end: now() });
  }
}
