// Pools of isolated workers: each Worker instantiates its own copy of the plain (non-shared)
// wasm build and runs jobs sent by message. This is the playground's `multiprocessing`.

const now = () => performance.timeOrigin + performance.now();

export class IsolatedPools {
  /** @param {string} glueUrl the plain build's wasm-bindgen glue */
  constructor(glueUrl) {
    this.glueUrl = glueUrl;
    /** @type {Promise<WebAssembly.Module> | null} compiled once, instantiated by every worker */
    this.module = null;
    /** @type {Map<number, Pool>} */
    this.pools = new Map();
    this.nextId = 1;
  }

  compiled() {
    this.module ??= WebAssembly.compileStreaming(fetch(new URL('playground_bg.wasm', this.glueUrl))).catch((error) => {
      this.module = null; // let the next pool try again
      throw error;
    });
    return this.module;
  }

  /** Starts `size` workers; resolves to JSON `{id, spawned: [[start, end], ...]}`. */
  async start(size) {
    const module = await this.compiled();
    const pool = new Pool(this.glueUrl, module);
    const spawned = await Promise.all(Array.from({ length: size }, (_, i) => pool.spawn(i)));
    const id = this.nextId++;
    this.pools.set(id, pool);
    return JSON.stringify({ id, spawned });
  }

  /** Runs a job after a pause; resolves to JSON matching `JobDone` in src/engines/workers.rs. */
  run(id, worker, job, input, pauseMs = 0) {
    const pool = this.pools.get(id);
    if (!pool) return Promise.reject('this pool was stopped');
    return pool.run(worker, job, input, pauseMs);
  }

  stop(id) {
    this.pools.get(id)?.terminate();
    this.pools.delete(id);
  }
}

class Pool {
  constructor(glueUrl, module) {
    this.glueUrl = glueUrl;
    this.module = module;
    /** @type {Worker[]} */
    this.workers = [];
    /** @type {Map<number, {resolve: (v: string) => void, reject: (e: string) => void, sent: number, bytesIn: number, worker: number}>} */
    this.pending = new Map();
    this.seq = 0;
  }

  /** Starts worker `i` and resolves to its [start, end] clock times once it can take jobs. */
  spawn(i) {
    const start = now();
    const worker = new Worker(new URL('isolated-worker.js', import.meta.url), { type: 'module', name: `worker ${i + 1}` });
    this.workers[i] = worker;
    return new Promise((resolve, reject) => {
      worker.addEventListener('message', ({ data }) => {
        if (data.type === 'ready') resolve([start, now()]);
        else if (data.type === 'failed') reject(`worker ${i + 1} could not load the wasm: ${data.message}`);
        else if (data.type === 'done') this.settle(data);
        else if (data.type === 'panic') this.crash(i, data.message);
      });
      worker.addEventListener('error', (event) => {
        reject(`worker ${i + 1} failed: ${event.message}`);
        this.crash(i, event.message);
      });
      worker.postMessage({ type: 'init', glue: this.glueUrl, module: this.module });
    });
  }

  run(worker, job, input, pauseMs) {
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject, sent: now(), bytesIn: input.length, worker });
      this.workers[worker].postMessage({ type: 'job', seq, job, input, pauseMs });
    });
  }

  settle({ seq, output, paused, start, end }) {
    const job = this.pending.get(seq);
    if (!job) return;
    this.pending.delete(seq);
    const result = JSON.parse(output);
    const bytesOut = (result.Ok ?? result.Err ?? '').length;
    job.resolve(JSON.stringify({ output: result, sent: job.sent, paused, start, end, received: now(), bytes_in: job.bytesIn, bytes_out: bytesOut }));
  }

  /** A panic traps the worker's wasm instance: fail its jobs and replace it with a fresh one. */
  crash(i, message) {
    for (const [seq, job] of this.pending) {
      if (job.worker !== i) continue;
      this.pending.delete(seq);
      job.resolve(JSON.stringify({ output: { Err: `worker ${i + 1} crashed: ${message}` }, sent: job.sent, paused: job.sent, start: job.sent, end: now(), received: now(), bytes_in: job.bytesIn, bytes_out: 0 }));
    }
    this.workers[i]?.terminate();
    this.spawn(i).catch(() => {});
  }

  terminate() {
    for (const worker of this.workers) worker.terminate();
    for (const job of this.pending.values()) job.reject('stopped');
    this.pending.clear();
  }
}
