// Isolated workers: each Worker instantiates its own copy of the plain (non-shared) wasm build
// and runs jobs sent by message. This is the playground's `multiprocessing`.
//
// Like a long-lived ProcessPoolExecutor, workers outlive a run: the page asks for them when it
// shows a topic (`warm`), they instantiate the module and run every job once on a small input
// (so the browser has optimized the hot code before anything is timed), and a run borrows them
// (`start`) and gives them back (`stop`). A worker that crashed, or was still busy when its run
// was stopped, is terminated and replaced. `start(size, cold = true)` starts new workers instead,
// for the topics that measure what starting one costs.

import { Requests } from './requests.js';
import { lifeName, watchLife } from './liveness.js';

const now = () => performance.timeOrigin + performance.now();
/** Idle workers kept at most, whatever a topic asks for. */
const MAX_KEPT = 32;

/**
 * @typedef {import('../js/types.js').IsolatedMessage} IsolatedMessage
 * @typedef {import('../js/types.js').IsolatedRequest} IsolatedRequest
 */

/**
 * What a job's answer looks like to Rust (`RawDone` in src/engines/workers.rs).
 * @typedef {{output?: Uint8Array, error?: string, sent: number, paused: number, start: number, end: number, received: number}} Answer
 */

class IsolatedWorker {
  /**
   * @param {string} glueUrl @param {WebAssembly.Module} module @param {string} name
   * @param {boolean} warmUp run every job once before reporting ready
   */
  constructor(glueUrl, module, name, warmUp) {
    this.started = now();
    /** @type {number | null} when it reported ready */
    this.readyAt = null;
    this.dead = false;
    /** @type {Requests<Answer, {sent: number}>} jobs sent, waiting for their answer */
    this.jobs = new Requests();
    this.worker = new Worker(new URL('isolated-worker.js', import.meta.url), { type: 'module', name });
    /** @type {Promise<void>} */
    this.ready = new Promise((resolve, reject) => {
      this.worker.addEventListener('message', (/** @type {MessageEvent<IsolatedMessage>} */ { data }) => {
        if (data.type === 'ready') {
          this.readyAt = now();
          resolve();
          // A worker that ends without a word (the browser ended it) fails its jobs like a crash.
          watchLife(life, () => this.crash('the worker was lost: the browser ended it (short of memory?)'));
        } else if (data.type === 'failed') {
          this.crash(`could not load the wasm: ${data.message}`);
          reject(`${name} could not load the wasm: ${data.message}`);
        } else if (data.type === 'done') this.settle(data);
        else if (data.type === 'panic') this.crash(data.message);
      });
      this.worker.addEventListener('error', (event) => {
        this.crash(event.message);
        reject(`${name} failed: ${event.message}`);
      });
    });
    this.ready.catch(() => {}); // a start that fails is reported to whoever awaits it
    const life = lifeName('isolated');
    this.send({ type: 'init', glue: glueUrl, module, warmUp, life });
  }

  /** @param {IsolatedRequest} request @param {Transferable[]} [transfer] */
  send(request, transfer = []) {
    this.worker.postMessage(request, { transfer });
  }

  get busy() {
    return this.jobs.size > 0;
  }

  /**
   * Sends a job; the input's bytes are transferred, not copied a second time.
   * @param {string} job
   * @param {Uint8Array} input
   * @param {number} pauseMs
   * @returns {Promise<Answer>}
   */
  run(job, input, pauseMs) {
    const sent = now();
    if (this.dead)
      return Promise.resolve({
        error: 'the worker had crashed',
        sent,
        paused: sent,
        start: sent,
        end: sent,
        received: sent,
      });
    return this.jobs.open((seq) => this.send({ type: 'job', seq, job, input, pauseMs }, [input.buffer]), { sent })
      .answer;
  }

  /** @param {Extract<IsolatedMessage, {type: 'done'}>} done */
  settle({ seq, output, paused, start, end }) {
    const job = this.jobs.data(seq);
    if (job) this.jobs.answer(seq, { output, sent: job.sent, paused, start, end, received: now() });
  }

  /**
   * A panic traps the wasm instance: its jobs fail with the message, and it is never reused.
   * @param {string} message
   */
  crash(message) {
    if (this.dead) return;
    this.dead = true;
    const at = now();
    this.jobs.settleAll(({ sent }) => ({
      error: `crashed: ${message}`,
      sent,
      paused: sent,
      start: sent,
      end: at,
      received: at,
    }));
    this.worker.terminate();
  }

  terminate() {
    this.crash('stopped');
  }
}

export class IsolatedPools {
  /** @param {string} glueUrl the plain build's wasm-bindgen glue */
  constructor(glueUrl) {
    this.glueUrl = glueUrl;
    /** @type {Promise<WebAssembly.Module> | null} compiled once, instantiated by every worker */
    this.module = null;
    /** @type {IsolatedWorker[]} warm workers no run has borrowed (ready or still starting) */
    this.idle = [];
    /** @type {Map<number, IsolatedWorker[]>} the workers each running pool has borrowed */
    this.pools = new Map();
    this.nextId = 1;
    this.named = 0;
    /** @type {Promise<void>} the latest `warm`: its workers created (not yet ready) */
    this.warming = Promise.resolve();
    /** how many idle workers to keep: what the shown topic can use (each holds its own memory) */
    this.keep = navigator.hardwareConcurrency || 2;
  }

  compiled() {
    this.module ??= WebAssembly.compileStreaming(fetch(new URL('playground_bg.wasm', this.glueUrl))).catch((error) => {
      this.module = null; // let the next pool try again
      throw error;
    });
    return this.module;
  }

  /** @param {boolean} warmUp */
  async spawn(warmUp) {
    return new IsolatedWorker(this.glueUrl, await this.compiled(), `isolated ${++this.named}`, warmUp);
  }

  /**
   * Makes sure `n` warm workers wait for work (started in the background).
   * @param {number} n
   */
  warm(n) {
    this.keep = Math.max(Math.min(n, MAX_KEPT), navigator.hardwareConcurrency || 2);
    this.idle = this.idle.filter((w) => !w.dead);
    while (this.idle.length > this.keep) this.idle.pop()?.terminate();
    const missing = Math.min(n, MAX_KEPT) - this.idle.length;
    this.warming = (async () => {
      for (let i = 0; i < missing; i++) this.idle.push(await this.spawn(true));
    })();
    return this.warming;
  }

  /** Resolves once the workers `warm` started are ready (or failed to start). */
  async settled() {
    await this.warming.catch(() => {});
    await Promise.allSettled(this.idle.map((w) => w.ready));
  }

  /**
   * Lends `size` workers to a run: warm ones first (unless `cold`), new ones for the rest.
   * Resolves to JSON `{id, spawned}`: per worker the [start, ready] clock times of a start this
   * run waited for, or null for a worker that was ready already.
   * @param {number} size
   */
  async start(size, cold = false) {
    const taken = now();
    const workers = [];
    /** @type {boolean[]} */
    const waited = [];
    for (let i = 0; i < size; i++) {
      let worker = cold ? undefined : this.takeIdle();
      const fresh = !worker;
      worker ??= await this.spawn(!cold);
      workers.push(worker);
      waited.push(fresh || worker.readyAt === null);
    }
    await Promise.all(workers.map((w) => w.ready));
    const spawned = workers.map((w, i) =>
      waited[i] ? [Math.max(w.started, taken), /** @type {number} */ (w.readyAt)] : null,
    );
    const id = this.nextId++;
    this.pools.set(id, workers);
    return JSON.stringify({ id, spawned });
  }

  takeIdle() {
    let worker = this.idle.shift();
    while (worker?.dead) worker = this.idle.shift();
    return worker;
  }

  /**
   * Runs a job after a pause; resolves to an `Answer`. A crashed worker is replaced first.
   * @param {number} id the pool
   * @param {number} index the worker in it
   * @param {string} job
   * @param {Uint8Array} input
   */
  async run(id, index, job, input, pauseMs = 0) {
    const workers = this.pools.get(id);
    if (!workers) throw 'this pool was stopped';
    if (workers[index].dead) {
      workers[index] = await this.spawn(true);
      await workers[index].ready;
    }
    return workers[index].run(job, input, pauseMs);
  }

  /**
   * Terminates one worker of a running pool at once (as a process killed mid-task): its pending
   * jobs answer with an error, and the next job for that index starts a fresh worker.
   * @param {number} id the pool
   * @param {number} index the worker in it
   */
  kill(id, index) {
    this.pools.get(id)?.[index]?.crash('terminated');
  }

  /**
   * Gives a run's workers back; busy ones (Stop pressed mid-job) are replaced by fresh ones.
   * @param {number} id the pool
   */
  stop(id) {
    for (const worker of this.pools.get(id) ?? []) {
      if (worker.dead) continue;
      if (worker.busy) {
        worker.terminate();
        this.spawn(true).then(
          (fresh) => this.idle.push(fresh),
          () => {},
        );
      } else if (this.idle.length < this.keep) this.idle.push(worker);
      else worker.terminate();
    }
    this.pools.delete(id);
  }
}
