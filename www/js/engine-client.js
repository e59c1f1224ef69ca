// The page's side of the engine worker: transport. It sends requests, hands progress on, and
// when a demo panics or traps (out of memory), Rust's stall watchdog ends a run, the worker fails
// or is lost, or the run controller gives up on it (a Stop not honoured, an engine gone silent),
// it replaces the worker so the next run starts clean and ends the run in flight with a typed
// `Crash` (its cause, as data). What the learner reads about a run that ended so, and when a run
// may start or must stop, is run-controller.js's.

import { adoptEarly, engineWorker } from '../engine/engine-start.js';
import { buildOf, engineFlavor } from '../engine/flavor.js';
import { lifeName, watchLife } from '../engine/liveness.js';
import { Requests } from '../engine/requests.js';
import { WorkerHost } from '../engine/worker-host.js';

/** An engine worker that has not said it is ready by then failed to start (it may hang loading). */
const BOOT_MS = 30_000;
/** Starts tried before the page gives up: one more of the same build, then the plain build. */
const BOOT_TRIES = 3;

/**
 * @typedef {import('./types.js').Caps} Caps
 * @typedef {import('./types.js').Crash} Crash
 * @typedef {import('./types.js').Checked} Checked
 * @typedef {import('./types.js').Drained} Drained
 * @typedef {import('./types.js').EngineMessage} EngineMessage
 * @typedef {import('./types.js').EngineRequest} EngineRequest
 * @typedef {import('./types.js').Outcome} Outcome
 * @typedef {import('./types.js').SelfTest} SelfTest
 * @typedef {import('./types.js').BenchResult} BenchResult
 * @typedef {import('./types.js').Values} Values
 * @typedef {Extract<EngineMessage, {type: 'ready'}>} Ready
 * @typedef {EngineRequest extends infer R ? R extends {id: number} ? Omit<R, 'id'> : never : never} NumberedRequest a request the engine answers, before it has its id
 * @typedef {{onProgress?: (drained: Drained) => void, kind: 'run' | 'query', spans: import('./types.js').Span[], log: import('./types.js').LogLine[], answered: Promise<unknown>}} Pending
 *   what is kept beside a request: its answer is an `Outcome` for a run and a query's answer for a query (`request` types each caller's promise)
 */

/** Tests make the stall watchdog quicker than its 15 s (for a deliberate deadlock, say). */
function stallOverride() {
  try {
    return Number(sessionStorage.getItem('playground.stallMs')) || undefined;
  } catch {
    return undefined; // storage refused (a third-party embed)
  }
}

export class Engine {
  /**
   * @param {string} part the engine part to start with (the threaded build comes in parts)
   * @param {(topic: string) => string} [partOf] the part that runs `topic` (the catalog says);
   *   a request about a topic of another part replaces the worker with one of that part
   */
  constructor(part, partOf = () => part) {
    this.part = part;
    this.partOf = partOf;
    this.flavor = engineFlavor();
    /** @type {string[]} why each start that failed failed (see `bootFailed`) */
    this.failures = [];
    /** @type {string | undefined} why the page runs the plain build where it expected threads */
    this.fallback = undefined;
    /** @type {Requests<any, Pending>} requests sent to the current worker, waiting for their answer */
    this.pending = new Requests();
    /**
     * When the current engine worker last said anything (performance.now()): the run
     * controller's watch for an engine gone silent during a run reads it.
     */
    this.heard = 0;
    const { worker, host, ready, retire } = this.start();
    this.worker = worker;
    this.host = host;
    this.ready = ready;
    this.retire = retire;
  }

  /**
   * Starts an engine worker; the caller keeps what this returns as the current engine. `retire`
   * ends its boot when it is replaced: its `ready` then follows the worker that replaced it (see
   * `bootFailed`), so nothing waits on a worker that is gone.
   * @returns {{worker: Worker, host: WorkerHost, ready: Promise<Ready>, retire: () => void}}
   */
  start() {
    // The workers the engine asks for (threads, isolated workers) are made here; see worker-host.js.
    const host = new WorkerHost();
    const { part, flavor } = this;
    const adopted = adoptEarly(part, flavor);
    const worker = adopted?.worker ?? engineWorker(part, flavor);
    // Whatever a replaced worker still says is about a run that has already ended.
    const current = () => this.worker === worker;
    const life = lifeName('engine');
    let booted = false;
    let retire = () => {};
    /** @type {Promise<Ready>} */
    const booting = new Promise((resolve, reject) => {
      const slow = setTimeout(() => reject(new Error(`it did not start within ${BOOT_MS / 1000} s`)), BOOT_MS);
      retire = () => {
        clearTimeout(slow);
        reject(new Error('it was replaced'));
      };
      worker.addEventListener('message', (/** @type {MessageEvent<EngineMessage>} */ { data }) => {
        if (!current()) return;
        this.heard = performance.now();
        if (data.type === 'worker-host') host.serve(data.port);
        else if (data.type === 'ready') {
          booted = true;
          clearTimeout(slow);
          resolve({ ...data, caps: { ...data.caps, fallback: this.fallback } });
        } else if (data.type === 'failed') reject(new Error(data.message));
        else if (data.type === 'alive') watchLife(life, () => current() && this.restart({ cause: 'lost' }));
        else this.receive(data);
      });
      worker.addEventListener('error', (event) => {
        if (!current()) return;
        reject(new Error(event.message || 'the engine failed to load'));
        // One that never started would fail again: only a running engine is replaced.
        if (booted) this.restart({ cause: 'worker-error', detail: String(event.message).slice(0, 200) });
      });
    });
    const ready = booting.catch((error) => this.bootFailed(worker, error));
    ready.catch(() => {}); // whoever awaits it hears why
    worker.postMessage({ type: 'life', name: life });
    // What it said before: once the caller holds it as the current worker, before any later message.
    if (adopted)
      queueMicrotask(() => {
        for (const event of adopted.heard) worker.dispatchEvent(event);
      });
    return { worker, host, ready, retire };
  }

  /** Ends the current worker and starts the next (same part and build, unless changed before). */
  replace() {
    this.worker.terminate();
    this.host.terminateAll(); // made by the page, they would outlive the engine
    const retired = this.retire;
    Object.assign(this, this.start());
    retired(); // after the swap: its waiters move on to the new worker's `ready`
  }

  /**
   * An engine worker that never got ready: start another, and after a second failure of the
   * threaded build, the plain one (no shared memory: thread modes say so, everything else runs),
   * so that a page is never dead until reloaded. Rejects, saying every failure, after BOOT_TRIES.
   * @param {Worker} worker the one that failed
   * @param {Error} error why
   * @returns {Promise<Ready>}
   */
  bootFailed(worker, error) {
    if (this.worker !== worker) return this.ready; // replaced: its waiters wait for the new one
    this.failures.push(error.message);
    if (this.failures.length >= BOOT_TRIES)
      throw new Error(`it failed to start ${this.failures.length} times (${this.failures.join('; ')})`);
    if (this.failures.length === BOOT_TRIES - 1 && this.flavor === 'threads') {
      this.flavor = 'plain';
      this.fallback = `The threaded engine failed to start twice (${error.message}), so the playground runs its plain build here: thread modes are unavailable, everything else runs.`;
    }
    this.replace();
    return this.ready;
  }

  /**
   * Replaces a stuck or broken engine worker, or one of another part; the run in flight ends
   * as crashed by `crash`, a query in flight unanswered.
   * @param {Crash} crash why
   */
  restart(crash) {
    const unanswered = unansweredCheck('The engine was restarted before it answered: try again.');
    this.pending.settleAll((request) => (request.kind === 'run' ? { outcome: 'crashed', crash } : unanswered));
    this.replace();
  }

  /** The id of the run this worker is running, if any. */
  runInFlight() {
    for (const [id, request] of this.pending.entries())
      if (request.kind === 'run') return { id, answered: request.answered };
    return null;
  }

  /** @param {Exclude<EngineMessage, {type: 'worker-host' | 'ready' | 'failed' | 'alive'}>} data */
  receive(data) {
    if (data.type === 'heartbeat') return;
    if (data.type === 'stuck') {
      if (data.id === this.runInFlight()?.id) this.restart({ cause: 'stalled', detail: data.reason });
      return;
    }
    if (data.type === 'crashed') {
      const { message, failedAllocation, memoryBytes, flavor } = data;
      this.restart(
        failedAllocation > 0
          ? { cause: 'out-of-memory', failedAllocation, memoryBytes, flavor }
          : { cause: 'trap', detail: message },
      );
      return;
    }
    if (data.type === 'panic') {
      // A Rust panic traps the wasm instance: nothing in it can be trusted afterwards.
      this.restart({ cause: 'panic', detail: data.message });
      return;
    }
    const request = this.pending.data(data.id);
    if (!request) return;
    if (data.type === 'progress') {
      /** @type {Drained} */
      const drained = JSON.parse(data.drained); // JSON text: parsed faster than objects are copied
      for (const span of drained.spans) request.spans.push(span);
      for (const line of drained.log) request.log.push(line);
      request.onProgress?.(drained);
    } else {
      const report = data.type === 'done' && data.outcome.outcome === 'finished' ? data.outcome.report : undefined;
      // The engine sends spans and log lines only in progress messages.
      if (report?.posted) {
        report.spans = request.spans.slice(0, report.posted.spans).concat(report.spans);
        report.log = request.log.slice(0, report.posted.log).concat(report.log);
        delete report.posted;
      }
      this.pending.answer(data.id, data.type === 'done' ? data.outcome : data.result); // 'done' ends a run, 'answer' a query
    }
  }

  /**
   * Sends `message` with a new id, now; resolves to the engine's reply to it: a run's outcome
   * (`kind` 'run', with progress on the way) or the answer to a query (`kind` 'query').
   * @template T what the engine's reply is
   * @param {NumberedRequest} message
   * @param {'run' | 'query'} kind
   * @param {(drained: Drained) => void} [onProgress]
   * @returns {Promise<T>}
   */
  request(message, kind, onProgress) {
    /** @type {Pending} */
    const request = { onProgress, kind, spans: [], log: [], answered: Promise.resolve() };
    const { answer } = this.pending.open((id) => this.worker.postMessage({ ...message, id }), request);
    request.answered = answer;
    return /** @type {Promise<T>} */ (answer);
  }

  /**
   * Resolves to true once the engine worker runs the part that has `topic` and is ready. A topic
   * of another part replaces the worker (after the run in progress, if any, has ended). The
   * latest request wins: if one for a topic of yet another part replaced the worker meanwhile,
   * this resolves to false (the caller answers without the engine), so two requests never take
   * turns replacing each other's worker.
   * @param {string} topic
   * @returns {Promise<boolean>}
   */
  async readyFor(topic) {
    if (!this.runs(topic)) {
      for (let run = this.runInFlight(); run; run = this.runInFlight()) await run.answered;
      if (!this.runs(topic)) {
        this.part = this.partOf(topic);
        this.restart({ cause: 'switch' });
      }
    }
    for (;;) {
      const worker = this.worker;
      await this.ready;
      if (!this.runs(topic)) return false;
      if (this.worker === worker) return true;
      // Replaced by a crash or a boot retry, same part: wait for the new worker.
    }
  }

  /**
   * Whether the engine worker runs the part that has `topic` (it may still be starting).
   * @param {string} topic
   */
  runs(topic) {
    return buildOf(this.flavor, this.partOf(topic)) === buildOf(this.flavor, this.part);
  }

  /**
   * Validates parameters in Rust: `{ok, params, errors}`.
   * @param {string} topic
   * @param {Values} params
   * @returns {Promise<Checked>}
   */
  async check(topic, params, lenient = false) {
    if (!(await this.readyFor(topic))) return unansweredCheck(SWITCHED);
    return this.request({ type: 'check-params', topic, params, lenient }, 'query');
  }

  /**
   * Has the threads and isolated workers a run of `topic` can use started in the background.
   * @param {string} topic
   * @param {Values} params
   */
  async prepare(topic, params) {
    if (!(await this.readyFor(topic))) return;
    this.worker.postMessage({ type: 'prepare', topic, params });
  }

  /**
   * Sends a run of a topic at once (the run controller has made sure, with `readyFor`, that this
   * worker runs its part); `onProgress` gets what the run recorded so far, about ten times a second.
   * @param {string} topic
   * @param {Values} params
   * @param {(drained: Drained) => void} [onProgress]
   * @returns {Promise<Outcome>}
   */
  run(topic, params, onProgress) {
    return this.request({ type: 'run', topic, params, stallMs: stallOverride() }, 'run', onProgress);
  }

  /**
   * The threads self-test (diagnostics page): `{caps, shared, findings}`.
   * @returns {Promise<SelfTest>}
   */
  async selfTest() {
    await this.ready;
    return this.request({ type: 'selftest' }, 'query');
  }

  /**
   * One benchmark measurement in the engine: `{Ok: number}` or `{Err: text}`.
   * @param {string} name
   * @param {number} arg
   * @returns {Promise<BenchResult>}
   */
  async bench(name, arg) {
    await this.ready;
    return this.request({ type: 'bench', name, arg }, 'query');
  }

  /**
   * "You schedule" (the view after `request.choices`) or, with `search`, "Find the bug" (every
   * interleaving explored): src/interleaving/schedule.rs. Not a run: it may go while one does.
   * @param {string} topic
   * @param {import('./types.js').ScheduleRequest} request
   * @param {boolean} search
   * @returns {Promise<unknown>}
   */
  async schedule(topic, request, search) {
    if (!(await this.readyFor(topic))) return { error: SWITCHED };
    return this.request({ type: 'schedule', topic, request, search }, 'query');
  }

  /** Asks the run in flight to stop (the run controller restarts the engine if it does not). */
  stop() {
    if (this.runInFlight()) this.worker.postMessage({ type: 'stop' });
  }
}

/** Why a request ended unanswered: a later one, for a topic of another part, took the engine. */
export const SWITCHED = 'The engine was switched to another topic before this was sent: try again.';

/**
 * The answer of a parameter check the engine never gave.
 * @param {string} message why
 * @returns {Checked}
 */
function unansweredCheck(message) {
  return { ok: false, params: {}, errors: [{ field: 'params', message }] };
}
