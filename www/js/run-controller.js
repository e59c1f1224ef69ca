// Where a run starts, ends and is stopped, for the page and the embed alike. One run at a time:
// whoever wants the engine for a run (a Run press, autorun, an embed request, or setParams)
// claims it first, synchronously, so two requests can never both go ahead. A run then goes
//   idle -> claimed -> waiting -> running -> ending -> claimed -> (released) idle
// `waiting`: the run is not sent yet (the service worker, the engine's part); a Stop ends it
// there, unsent. `running`: the engine has it; a Stop asks the engine, and restarts it if the run
// has not ended HARD_STOP_MS later; an engine that says nothing, not even its heartbeat, for
// ENGINE_SILENT_MS is restarted too (`watchSilence`). `ending`: the page shows how it ended.
// Every way a run ends goes through one `end(outcome)`, which settles once; a crash comes from
// the engine client as a typed cause, and `endedAs` below turns it into the learner's sentence:
// the one table of them.

import { SWITCHED } from './engine-client.js';

/** How long a stopped run may take to end by itself before the engine is restarted. */
const HARD_STOP_MS = 400;
/** A run whose engine has said nothing (not even its heartbeat) for this long has a blocked engine. */
const ENGINE_SILENT_MS = 10_000;
/** A run a Stop ended before it was sent (or, for the embed, before it was shown). */
export const STOPPED_BEFORE_START = 'Stopped before the run started.';
/** Said after a crash whose sentence does not say the engine was restarted. */
const RESTARTED = 'The engine was restarted; you can run again.';

/**
 * @typedef {import('./types.js').Outcome} Outcome
 * @typedef {import('./types.js').Crash} Crash
 * @typedef {import('./types.js').Values} Values
 * @typedef {import('./types.js').Drained} Drained
 * @typedef {import('./embed-api.js').RunEnd} RunEnd
 * @typedef {import('./engine-client.js').Engine} Engine
 * @typedef {'idle' | 'claimed' | 'waiting' | 'running' | 'ending'} Phase
 * @typedef {import('./types.js').OutcomeOf<import('./types.js').Report>
 *   | {outcome: 'unsent', message: string}
 *   | {outcome: 'crashed', message: string, note: string | null}} Ended
 *   how a run ended, in the learner's words: `note` is said after `message`
 * @typedef {{topic: string, params: Values, by: string, before: Promise<unknown>, onProgress: (drained: Drained) => void, show: (ended: Ended) => Promise<RunEnd>}} RunSpec
 *   `by`: 'learner', 'autorun' or 'parent'; `before`: the run is sent once it settles (Stop ends
 *   the run unsent meanwhile); `show` shows how it ended and says so as a `RunEnd`
 */

export class RunController {
  constructor() {
    /** @type {Phase} */
    this.phase = 'idle';
    /** @type {string | null} who holds the engine, as a busy answer names it */
    this.holder = null;
    /** @type {string | null} who started the run in progress: 'parent', 'learner' or 'autorun' */
    this.by = null;
    /** Runs that ended (tests and embedding pages tell a new result from an old one by it). */
    this.runs = 0;
    /** @type {{end: RunEnd, topic: string} | null} how the last run ended */
    this.last = null;
    /** A Stop came since the engine was claimed (a run not yet started then does not start). */
    this.stopAsked = false;
    /** Resolves when the holder lets go. */
    this.released = Promise.resolve();
    /** @type {Engine | null} set once the engine exists */
    this.engine = null;
    /** @type {((outcome: Outcome) => void) | null} ends the run in progress (once) */
    this.end = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.hardStop = undefined;
    /** @type {((controller: RunController) => void)[]} */
    this.listeners = [];
  }

  /** Whether a run is in progress (from Run to its results shown). */
  get running() {
    return this.phase === 'waiting' || this.phase === 'running' || this.phase === 'ending';
  }

  /** @param {(controller: RunController) => void} listener called at every change of phase */
  onChange(listener) {
    this.listeners.push(listener);
  }

  /** @param {Phase} phase */
  enter(phase) {
    this.phase = phase;
    for (const listener of this.listeners) listener(this);
  }

  /**
   * Takes the engine for `who`, synchronously; returns the release function, or null when
   * another holds it (`busyMessage` says who).
   * @param {string} who
   * @returns {(() => void) | null}
   */
  claim(who) {
    if (this.phase !== 'idle') return null;
    this.holder = who;
    this.stopAsked = false;
    /** @type {() => void} */
    let free = () => {};
    this.released = /** @type {Promise<void>} */ (new Promise((resolve) => (free = () => resolve(undefined))));
    this.enter('claimed');
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.holder = null;
      this.enter('idle');
      free();
    };
  }

  busyMessage() {
    return `Busy: ${this.holder} is still going. One run at a time: send this request when that one has answered.`;
  }

  /**
   * Runs a topic for the holder of the claim, and shows how it ended (`spec.show`).
   * @param {RunSpec} spec
   * @returns {Promise<RunEnd>}
   */
  async run({ topic, params, by, before, onProgress, show }) {
    const engine = this.engine;
    if (this.phase !== 'claimed' || !engine) return { message: this.busyMessage() };
    this.by = by;
    /** @type {(outcome: Outcome) => void} */
    let settle = () => {};
    /** @type {Promise<Outcome>} */
    const ended = new Promise((resolve) => (settle = resolve));
    const end = (/** @type {Outcome} */ outcome) => {
      if (this.end !== end) return; // settled already
      this.end = null;
      clearTimeout(this.hardStop);
      settle(outcome);
    };
    this.end = end;
    this.enter('waiting');
    if (this.stopAsked) end({ outcome: 'unsent', cause: 'stop' });
    const send = async () => {
      await before.catch(() => {});
      if (this.end !== end) return;
      if (!(await engine.readyFor(topic))) return end({ outcome: 'unsent', cause: 'switch' });
      if (this.end !== end) return;
      this.enter('running'); // and sent in the same task: a Stop from now on goes to the engine
      const silence = watchSilence(engine);
      try {
        end(await engine.run(topic, params, onProgress));
      } finally {
        clearInterval(silence);
      }
    };
    send().catch((error) => end({ outcome: 'crashed', crash: { cause: 'trap', detail: String(error) } }));
    const outcome = await ended;
    this.enter('ending');
    try {
      const shown = await show(endedAs(outcome));
      this.last = { end: shown, topic };
      return shown;
    } finally {
      this.by = null;
      this.runs++;
      this.enter('claimed');
    }
  }

  /**
   * Stops the run in progress, or the one about to start. Resolves, once the engine is free, to
   * whether anything held it.
   * @returns {Promise<boolean>}
   */
  stop() {
    if (this.phase === 'idle') return Promise.resolve(false);
    this.stopAsked = true;
    if (this.phase === 'waiting') this.end?.({ outcome: 'unsent', cause: 'stop' });
    else if (this.phase === 'running' && this.engine) {
      const engine = this.engine;
      const end = this.end;
      engine.stop();
      clearTimeout(this.hardStop);
      this.hardStop = setTimeout(() => {
        if (this.end === end && this.phase === 'running') engine.restart({ cause: 'hard-stop' });
      }, HARD_STOP_MS);
    }
    return this.released.then(() => true);
  }
}

/**
 * Watches a run the engine has for silence: the engine posts a heartbeat every second while it
 * runs (engine-worker.js, which also ends runs whose threads all wait, Rust's stall watchdog). If
 * even that stops, the engine's own thread is blocked (it was, in Firefox, inside `new Worker()`):
 * nothing in it can end the run, so it is replaced, which ends the run as `silent`. The caller
 * clears the returned interval when the run has ended.
 * @param {Engine} engine
 */
function watchSilence(engine) {
  const since = performance.now();
  const timer = setInterval(() => {
    if (performance.now() - Math.max(since, engine.heard) <= ENGINE_SILENT_MS) return;
    clearInterval(timer);
    engine.restart({ cause: 'silent', seconds: Math.round(ENGINE_SILENT_MS / 1000) });
  }, 1000);
  return timer;
}

/**
 * How a run ended, in the learner's words: the engine's outcome as it is, and a run that never
 * reached Rust or whose engine was replaced said here, each sentence once.
 * @param {Outcome} outcome
 * @returns {Ended}
 */
export function endedAs(outcome) {
  if (outcome.outcome === 'unsent')
    return { outcome: 'unsent', message: outcome.cause === 'stop' ? STOPPED_BEFORE_START : SWITCHED };
  if (outcome.outcome !== 'crashed') return outcome;
  const { message, restarted } = crashMessage(outcome.crash);
  return { outcome: 'crashed', message, note: restarted ? null : RESTARTED };
}

/**
 * Why the engine was replaced during a run, as a sentence for the learner: what failed, and what
 * to try; `restarted` when it says the engine was restarted.
 * @param {Crash} crash
 * @returns {{message: string, restarted: boolean}}
 */
function crashMessage(crash) {
  const restarted = (/** @type {string} */ message) => ({ message, restarted: true });
  switch (crash.cause) {
    case 'panic':
      return { message: `The demo panicked: ${crash.detail}`, restarted: false };
    case 'out-of-memory': {
      const mb = (/** @type {number} */ bytes) => `${Math.ceil(bytes / 1e6).toLocaleString('en')} MB`;
      const shared = crash.flavor === 'threads' ? ', shared by all its threads,' : '';
      return restarted(
        `The run ran out of memory: it asked for ${mb(crash.failedAllocation)} more when the engine's memory${shared} was at ${mb(crash.memoryBytes)} and could not grow. The engine was restarted. Try smaller files, smaller parameters or fewer workers.`,
      );
    }
    case 'trap':
      return restarted(
        `The engine crashed (${crash.detail}). It was restarted: you can run again; if it happens again, try smaller parameters.`,
      );
    case 'worker-error':
      return restarted(`The engine failed (${crash.detail}). It was restarted: you can run again.`);
    case 'lost':
      return restarted(
        'The engine stopped without a word: the browser ended it, perhaps because it ran short of memory. It was restarted: try again, with smaller parameters if it happens again.',
      );
    case 'stalled':
      return { message: `The run did not end: ${crash.detail}`, restarted: false };
    case 'silent':
      return restarted(
        `The engine stopped answering for ${crash.seconds} s during the run (its thread was blocked), so it was restarted.`,
      );
    case 'hard-stop':
      return restarted('Stopped: the run did not end by itself, so the engine was restarted.');
    case 'switch':
      return { message: 'The engine was switched to another part.', restarted: false };
  }
}
