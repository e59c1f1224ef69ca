// Every Web Worker of the playground is constructed by the page's main thread, never by a worker.
//
// Why (Firefox): a Worker constructed inside a worker blocks its caller until the main thread
// has registered the new worker with the debugger, whenever a debugger listener exists, and
// WebDriver BiDi always registers one (DevTools does while it watches workers). That wait
// sometimes never ends: `new Worker()` in the engine or in a wasm thread never returned, and
// the run stayed "Running..." forever (Firefox ESR 153 under BiDi: 17 of 30 bursts of 10 nested
// workers hung, 0 of 180 without BiDi, 0 of 30 bursts made by the page). A Worker made on the
// main thread registers at once. Chromium gains too: there a nested worker cannot start while
// its parent blocks (in a join or a lock); a worker made by the page can.
//
// So the engine and every worker made for it get `self.Worker` replaced by `PortWorker`, which
// asks the page (`WorkerHost`) over a MessagePort. The page starts `worker-boot.js` with the
// real script's URL and one end of a fresh MessageChannel; the creator keeps the other end, so
// messages flow directly between the two, not through the page. Existing code (the thread pool,
// isolated workers, wasm-bindgen-rayon) keeps calling `new Worker(url, options)` unchanged.

const BOOT_URL = new URL('worker-boot.js', import.meta.url).href;

/** The page side: makes workers when asked, and can end all of them (an engine restart). */
export class WorkerHost {
  constructor() {
    /** @type {Set<Worker>} every worker made and not yet ended */
    this.workers = new Set();
  }

  /**
   * A port for one worker to ask for workers on (see `serve`).
   * @param {Worker} [owner] @param {(message: string) => void} [failed]
   */
  connect(owner, failed) {
    const { port1, port2 } = new MessageChannel();
    this.serve(port1, owner, failed);
    return port2;
  }

  /**
   * Answers the requests on `port`: `owner` is the worker at its other end (so its notice that it
   * closed itself can drop it), `failed` reports that its script did not load.
   * @param {MessagePort} port @param {Worker} [owner] @param {(message: string) => void} [failed]
   */
  serve(port, owner, failed) {
    /** @type {Map<number, Worker>} this requester's workers by its ids */
    const made = new Map();
    port.onmessage = ({ data }) => {
      if (data?.type === 'create') made.set(data.id, this.create(data, port));
      else if (data?.type === 'terminate') {
        const worker = made.get(data.id);
        worker?.terminate();
        if (worker) this.workers.delete(worker);
        made.delete(data.id);
      } else if (data?.type === 'closed' && owner) this.workers.delete(owner);
      else if (data?.type === 'failed') failed?.(data.message);
    };
  }

  /** @param {{id: number, url: string, options: WorkerOptions, port: MessagePort}} request @param {MessagePort} requester */
  create({ id, url, options, port }, requester) {
    // The real script's name in the address tells workers apart in DevTools and in tests. It goes in
    // the fragment, which is not part of the request: with a query every worker's boot script was
    // another URL, so fetched again (and downloaded again) for each kind of worker.
    const boot = `${BOOT_URL}#${new URLSearchParams({ script: url.startsWith('blob:') ? 'blob' : new URL(url).pathname })}`;
    const worker = new Worker(boot, { type: 'module', name: options?.name ?? '' });
    this.workers.add(worker);
    // An error the worker did not catch goes to whoever asked for it, as a real parent's would.
    const failed = (/** @type {string} */ message) =>
      requester.postMessage({ type: 'error', id, message: message || `${options?.name ?? url} failed` });
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      failed(event.message);
    });
    const factory = this.connect(worker, failed);
    worker.postMessage({ type: 'worker-boot', url, port, factory }, [port, factory]);
    return worker;
  }

  terminateAll() {
    for (const worker of this.workers) worker.terminate();
    this.workers.clear();
  }
}

/**
 * Replaces `self.Worker` in a worker by one that asks the page over `factory`.
 * @param {MessagePort} factory
 */
export function installWorkerShim(factory) {
  // Ids here name live workers, not requests, so requests.js does not fit: `new Worker()` is
  // synchronous and answered by nothing (the worker's messages come over its own port), and the
  // page's 'error' notices are events, any number of them, for as long as the worker lives. Nothing
  // waits, so there is nothing to time out or settle; if the page goes, so do its workers.
  /** @type {Map<number, PortWorker>} */
  const live = new Map();
  let nextId = 1;
  factory.onmessage = ({ data }) => {
    if (data?.type !== 'error') return;
    const worker = live.get(data.id);
    const event = new ErrorEvent('error', { message: data.message });
    if (worker) worker.dispatchEvent(event);
  };

  /** A Worker whose real one the page made; it talks over a MessagePort to that worker. */
  class PortWorker extends EventTarget {
    /** @param {string | URL} url @param {WorkerOptions} [options] */
    constructor(url, options = {}) {
      super();
      const { port1, port2 } = new MessageChannel();
      this.id = nextId++;
      this.port = port1;
      live.set(this.id, this);
      port1.onmessage = ({ data, ports }) =>
        this.dispatchEvent(new MessageEvent('message', { data, ports: [...ports] }));
      const href = new URL(url, self.location.href).href;
      factory.postMessage(
        { type: 'create', id: this.id, url: href, options: { type: options.type, name: options.name }, port: port2 },
        [port2],
      );
      /** @type {((event: MessageEvent) => void) | null} */
      this.onmessage = null;
      /** @type {((event: ErrorEvent) => void) | null} */
      this.onerror = null;
      this.addEventListener('message', (event) => this.onmessage?.(/** @type {MessageEvent} */ (event)));
      this.addEventListener('error', (event) => this.onerror?.(/** @type {ErrorEvent} */ (event)));
    }

    /** @param {any} data @param {Transferable[] | StructuredSerializeOptions} [transfer] */
    postMessage(data, transfer) {
      this.port.postMessage(data, /** @type {any} */ (transfer));
    }

    terminate() {
      factory.postMessage({ type: 'terminate', id: this.id });
      this.port.close();
      live.delete(this.id);
    }
  }
  Object.assign(self, { Worker: PortWorker });
}
