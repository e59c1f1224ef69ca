// One isolated worker: its own wasm instance and memory; it only talks by messages.

const now = () => performance.timeOrigin + performance.now();
/** @type {any} */
let glue;

self.addEventListener('message', async ({ data }) => {
  if (data.type === 'init') {
    glue = await import(data.glue);
    await glue.default({ module_or_path: data.module });
    glue.install_panic_hook();
    self.postMessage({ type: 'ready' });
  } else if (data.type === 'job') {
    const start = now();
    let output;
    try {
      output = glue.run_job(data.job, data.input);
    } catch (error) {
      // The panic hook already told the pool; a trapped instance cannot be trusted again.
      output = JSON.stringify({ Err: `crashed: ${error}` });
    }
    self.postMessage({ type: 'done', seq: data.seq, output, start, end: now() });
  }
});
