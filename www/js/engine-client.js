// The page's side of the engine worker: requests, progress, Stop, and recovery. If a demo panics
// or Stop is not honoured quickly, the worker is replaced so the next run starts clean.

const HARD_STOP_MS = 400;

/**
 * @typedef {{threads: boolean, cores: number, isolated: boolean, flavor: string}} Caps
 * @typedef {{catalog: any, caps: Caps, bootMs: number}} Ready
 */

export class Engine {
  constructor() {
    /** @type {Map<number, {resolve: (v: any) => void, onProgress?: (d: any) => void, kind: string}>} */
    this.pending = new Map();
    this.nextId = 1;
    /** @type {number | null} id of the run in progress */
    this.running = null;
    this.start();
  }

  start() {
    this.worker = new Worker(new URL('../engine/engine-worker.js', import.meta.url), { type: 'module', name: 'engine' });
    /** @type {Promise<Ready>} */
    this.ready = new Promise((resolve, reject) => {
      this.worker.addEventListener('message', ({ data }) => {
        if (data.type === 'ready') resolve(data);
        else if (data.type === 'failed') reject(new Error(data.message));
        else this.receive(data);
      });
      this.worker.addEventListener('error', (event) => reject(new Error(event.message || 'the engine failed to load')));
    });
  }

  /** Replaces a stuck or broken engine worker; the run in progress ends with `outcome`. */
  restart(outcome) {
    this.worker.terminate();
    for (const [id, request] of this.pending) {
      this.pending.delete(id);
      request.resolve(request.kind === 'run' ? outcome : { ok: false, params: {}, errors: [] });
    }
    this.running = null;
    this.start();
  }

  receive(data) {
    if (data.type === 'panic') {
      // A Rust panic traps the wasm instance: nothing in it can be trusted afterwards.
      this.restart({ outcome: 'crashed', message: `The demo panicked: ${data.message}` });
      return;
    }
    const request = this.pending.get(data.id);
    if (!request) return;
    if (data.type === 'progress') request.onProgress?.(data.drained);
    else {
      this.pending.delete(data.id);
      if (data.id === this.running) this.running = null;
      request.resolve(data.type === 'done' ? data.outcome : data.result);
    }
  }

  request(message, kind, onProgress) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, onProgress, kind });
      this.worker.postMessage({ ...message, id });
      if (kind === 'run') this.running = id;
    });
  }

  /** Validates parameters in Rust: `{ok, params, errors}`. */
  async check(topic, params, lenient = false) {
    await this.ready;
    return this.request({ type: 'check', topic, params, lenient }, 'check');
  }

  /** Has the threads and isolated workers a run of `topic` can use started in the background. */
  async prepare(topic, params) {
    await this.ready;
    this.worker.postMessage({ type: 'prepare', topic, params });
  }

  /** Runs a topic; `onProgress` gets what the run recorded so far, about ten times a second. */
  async run(topic, params, onProgress) {
    await this.ready;
    return this.request({ type: 'run', topic, params }, 'run', onProgress);
  }

  /** The threads self-test (diagnostics page): `{caps, shared, findings}`. */
  async selfTest() {
    await this.ready;
    return this.request({ type: 'selftest' }, 'check');
  }

  /** One benchmark measurement in the engine: `{Ok: number}` or `{Err: text}`. */
  async bench(name, arg) {
    await this.ready;
    return this.request({ type: 'bench', name, arg }, 'check');
  }

  /** Asks the run to stop; if it has not ended shortly after, the worker is replaced. */
  stop() {
    const id = this.running;
    if (id === null) return;
    this.worker.postMessage({ type: 'stop' });
    setTimeout(() => {
      if (this.running === id) this.restart({ outcome: 'crashed', message: 'Stopped: the run did not end by itself, so the engine was restarted.' });
    }, HARD_STOP_MS);
  }
}
