// The postMessage API of an embedded topic (protocol 1), so a course page can drive it. The README
// has the table; in short, the parent sends commands, each with a requestId:
//   {type: 'run', topic, params}   answered by 'result' (finished or failed), 'stopped' or 'error',
//                                  after the events 'started' and 'progress' (throttled)
//   {type: 'stop'}                 answered by 'state' once the run in progress (if any) has ended
//   {type: 'setParams', topic?, params}  fills the form without running; answered by 'state'
//   {type: 'getState'}             answered by 'state'
// and the embed posts {type: 'ready', protocol, topics, topic, capabilities} on load. Events and
// answers carry the requestId of the command they are about (null for the learner's own runs,
// which the parent hears about too). A file parameter may be passed as [{name, data}] with data
// in base64 (never through the URL); results list the files as {name, size}, without bytes.
//
// Every message that reaches the listener gets exactly one answer carrying its requestId: an
// error at once for anything that is not a valid command (unknown type, bad shape, values JSON
// cannot carry, an origin the embed's URL does not allow); one run at a time (a second request
// while one runs is refused, naming it).

export const PROTOCOL = 1;
/** How long a name or value from the parent may be when it is echoed back. */
const ECHO_CHARS = 40;
/** Nesting deeper than this is refused here (Rust's JSON reader stops at 128). */
const MAX_DEPTH = 64;
/** At most this many field errors in one answer. */
const MAX_ERRORS = 20;
/** At most one progress event this often (the engine reports about ten times a second). */
const PROGRESS_EVERY_MS = 250;
/** Layout changes are gathered this long before the height is posted (never starved by a run that keeps changing it). */
const RESIZE_GATHER_MS = 100;
const USAGE = "send {type: 'run' | 'stop' | 'setParams' | 'getState', requestId, ...}";

/**
 * @typedef {import('./types.js').Report} Report
 * @typedef {import('./types.js').FieldError} FieldError
 * @typedef {import('./types.js').Values} Values
 * @typedef {Record<string, unknown>} Message a message to the parent page (the README's table says which)
 * @typedef {(message: Message) => void} Send
 */

/**
 * Short, serializable summary of a report for the parent page.
 * @param {Report} report
 */
export function summarize(report) {
  const ok = report.modes.filter((m) => m.status === 'ok');
  return {
    topic: report.topic,
    status: report.status,
    params: report.params,
    wallMs: report.wall_ms,
    modes: report.modes.map((m) => ({
      id: m.id,
      label: m.label,
      status: m.status,
      wallMs: m.wall_ms,
      speedup: m.speedup,
      result: m.result,
      lanes: m.lanes,
      note: m.note,
    })),
    speedup: Math.max(0, ...ok.map((m) => m.speedup ?? 0)),
    lanes: Math.max(0, ...report.modes.map((m) => m.lanes)),
    values: report.values,
    checks: report.checks,
  };
}

/**
 * How a run ended, as the message that answers it: 'result' (finished or failed), 'stopped'
 * (with what ran until then) or 'error' (refused, invalid, or the engine was lost).
 * @param {RunEnd} outcome
 * @param {string} topic
 * @returns {Message}
 */
export function endMessage(outcome, topic) {
  if (outcome.report && outcome.report.topic !== topic)
    return { type: 'error', message: "The run that ended was not this request's: send it again.", errors: [] };
  if (outcome.report)
    return { type: outcome.report.status === 'stopped' ? 'stopped' : 'result', ...summarize(outcome.report) };
  if (outcome.stopped) return { type: 'stopped', topic, status: 'stopped', message: outcome.message };
  return {
    type: 'error',
    message: outcome.message ?? 'The run did not finish.',
    errors: limited(outcome.errors ?? []),
    ...(outcome.fullPage ? { fullPage: outcome.fullPage } : {}),
  };
}

/**
 * What the page does for the parent. `run` must claim the engine before its first await and
 * refuse at once while another run holds it; it tells `events` when the run starts and how it
 * goes. `stop` resolves once no run is going (true if one was stopped).
 * `RunEnd` is how a run ended as the page showed it: its report, or why there is none.
 * @typedef {{report?: Report, message?: string, errors?: FieldError[], fullPage?: string, stopped?: boolean}} RunEnd
 * @typedef {{started: (info: {topic: string, params: Values, modes: string[]}) => void, progress: (live: import('./types.js').Drained) => void, ended: (outcome: RunEnd, topic: string) => void}} RunEvents
 * @typedef {{
 *   topics: string[],
 *   ready: () => Message,
 *   state: () => Promise<Message>,
 *   run: (topic: string, params: Values, label: string, events: RunEvents) => Promise<RunEnd>,
 *   stop: () => Promise<boolean>,
 *   setParams: (topic: string | undefined, params: Values) => Promise<RunEnd | null>,
 * }} Host
 */

/**
 * Answers the parent's messages; `origins` (from the embed's URL) limits who may send them.
 * Returns `learnerRun(by)`, the events of a run the parent did not ask for, or null when the
 * page is not embedded.
 * @param {Host} host
 * @param {string[] | null} origins
 */
export function listen(host, origins) {
  if (window.parent === window) return null;
  const parent = toParent(origins);
  parent({ type: 'ready', protocol: PROTOCOL, requestId: null, ...host.ready() });
  reportHeight(parent);
  // The scheduler panel's events (scheduler.js): 'schedule-step', 'goal-reached', 'search-result'.
  window.addEventListener('playground-scheduler', (event) =>
    parent({ .../** @type {CustomEvent} */ (event).detail, requestId: null }),
  );
  // Predict, then run (predict.js): 'prediction' and 'outcome', each with an xAPI-shaped statement.
  window.addEventListener('playground-prediction', (event) =>
    parent({ .../** @type {CustomEvent} */ (event).detail, requestId: null }),
  );
  window.addEventListener('message', (event) => {
    if (event.source === window) return; // the page's own messages are not requests
    const reply = replier(event);
    if (origins && !origins.includes(event.origin)) {
      reply({
        type: 'error',
        message: `This embed takes commands only from the origins its URL names (origin=), and ${cut(event.origin, 80)} is not one of them.`,
        errors: [],
      });
      return;
    }
    try {
      answer(event.data, reply, host, (message) => post(event, message));
    } catch (error) {
      reply({ type: 'error', message: `The request could not be handled: ${cut(String(error), 200)}`, errors: [] });
    }
  });
  return (/** @type {string} */ by) => runEvents((message) => parent({ ...message, requestId: null, by }));
}

/**
 * Posts to the parent page: to any, or when `origins` restricts it, only to an allowed parent.
 * Where the browser does not say the parent's origin, to each allowed origin (the browser drops
 * the others, with a console warning).
 * @param {string[] | null} origins
 * @returns {Send}
 */
function toParent(origins) {
  const parent = parentOrigin();
  const targets = !origins ? ['*'] : parent ? origins.filter((o) => o === parent) : origins;
  return (message) => {
    for (const origin of targets) window.parent.postMessage(message, origin);
  };
}

/** The origin of the page around the embed, where the browser tells it; else null. */
function parentOrigin() {
  const ancestors = window.location.ancestorOrigins;
  if (ancestors?.length) return ancestors[0];
  try {
    return document.referrer ? new URL(document.referrer).origin : null;
  } catch {
    return null;
  }
}

/**
 * Tells the parent the page's height whenever the layout changes (gathered), so the iframe can
 * fit it without a second scroll bar: {type: 'resize'} for embed.js and other pages,
 * {subject: 'lti.frameResize'} for Canvas and other LMSs.
 * @param {Send} parent
 */
function reportHeight(parent) {
  let timer = 0;
  let posted = -1;
  const measure = () => {
    timer = 0;
    // The root's own box: its content, whatever the iframe's height (scrollHeight would never shrink).
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === posted) return;
    posted = height;
    parent({ type: 'resize', height, requestId: null });
    parent({ subject: 'lti.frameResize', height });
  };
  new ResizeObserver(() => {
    if (!timer) timer = window.setTimeout(measure, RESIZE_GATHER_MS);
  }).observe(document.documentElement);
}

/**
 * Posts to whoever sent `event`.
 * @param {MessageEvent} event
 * @param {Message} message
 */
function post(event, message) {
  const origin = !event.origin || event.origin === 'null' ? '*' : event.origin;
  const target = /** @type {Window | null} */ (event.source) ?? window.parent;
  target.postMessage(message, { targetOrigin: origin });
}

/**
 * Sends the one answer to a message (later calls do nothing), with the message's requestId.
 * @param {MessageEvent} event
 * @returns {Send}
 */
function replier(event) {
  const { id } = requestId(event.data);
  let sent = false;
  return (message) => {
    if (sent) return;
    sent = true;
    try {
      post(event, { ...message, requestId: id });
    } catch (error) {
      // A result that cannot be cloned (it never should) still gets an answer.
      post(event, {
        type: 'error',
        requestId: id,
        message: `The answer could not be sent: ${cut(String(error), 200)}`,
        errors: [],
      });
    }
  };
}

/**
 * A run's events, posted by `send`: 'started', 'progress' at most every PROGRESS_EVERY_MS (the
 * latest one wins), and the message that ends it.
 * @param {Send} send
 * @returns {RunEvents}
 */
function runEvents(send) {
  let started = 0;
  let last = -Infinity;
  let timer = 0;
  /** @type {Message | null} */
  let pending = null;
  const flush = () => {
    timer = 0;
    last = performance.now();
    send({ ...pending, elapsedMs: Math.round(last - started) });
  };
  return {
    started(info) {
      started = performance.now();
      send({ type: 'started', ...info });
    },
    progress({ progress, spans, log }) {
      const fraction = progress && progress.total > 0 ? Math.min(1, progress.done / progress.total) : null;
      pending = {
        type: 'progress',
        done: progress?.done ?? null,
        total: progress?.total ?? null,
        label: progress?.label ?? null,
        fraction,
        spans: spans.length,
        lines: log.length,
      };
      if (timer) return;
      timer = window.setTimeout(flush, Math.max(0, last + PROGRESS_EVERY_MS - performance.now()));
    },
    ended(outcome, topic) {
      clearTimeout(timer); // no progress after the end
      timer = 0;
      send(endMessage(outcome, topic));
    },
  };
}

/**
 * The message's requestId as it is echoed: a number, or a string of at most 200 characters; else null.
 * @param {unknown} data
 * @returns {{id: string | number | null, ok: boolean}}
 */
function requestId(data) {
  const given =
    data !== null && typeof data === 'object' && !Array.isArray(data)
      ? /** @type {{requestId?: unknown}} */ (data).requestId
      : undefined;
  if (given === undefined || given === null) return { id: null, ok: true };
  if (typeof given === 'number' || (typeof given === 'string' && given.length <= 200)) return { id: given, ok: true };
  return { id: null, ok: false };
}

/**
 * Answers one message from the parent (exactly once, through `reply`).
 * @param {any} data whatever the parent posted: checked field by field before it is used
 * @param {Send} reply
 * @param {Host} host
 * @param {Send} send events of a run, before its answer
 */
function answer(data, reply, host, send) {
  const error = (/** @type {string} */ message, /** @type {FieldError[]} */ errors = []) =>
    reply({ type: 'error', message, errors });
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    return error(`The playground answers messages like {type: 'run', ...}, not ${describe(data)}: ${USAGE}.`);
  if (!requestId(data).ok) return error('requestId must be a string (at most 200 characters) or a number.');
  const failed = (/** @type {unknown} */ failure) => error(`The request failed: ${cut(String(failure), 200)}`);
  const state = (extra = {}) => host.state().then((s) => reply({ type: 'state', ...s, ...extra }), failed);
  if (data.type === 'getState') return state();
  if (data.type === 'stop') return host.stop().then((stopped) => state({ stopped }), failed);
  if (data.type !== 'run' && data.type !== 'setParams')
    return error(`Unknown message type ${describe(data.type)}: ${USAGE}.`);
  const needsTopic = data.type === 'run' || data.topic !== undefined;
  if (needsTopic && (typeof data.topic !== 'string' || !host.topics.includes(data.topic)))
    return error(`Unknown topic: ${describe(data.topic)}.`, [{ field: 'topic', message: 'unknown topic' }]);
  const given = data.params ?? {};
  if (typeof given !== 'object' || Array.isArray(given) || !isPlain(given)) {
    return error('Some parameters could not be read.', [
      { field: 'params', message: `params must be an object of names and values, not ${describe(given)}` },
    ]);
  }
  const { params, errors } = toJson(given);
  if (errors.length) return error('Some parameters could not be read.', limited(errors));
  if (data.type === 'setParams') {
    return host
      .setParams(data.topic, params)
      .then((refused) => (refused ? reply(endMessage(refused, data.topic)) : state()), failed);
  }
  const { id } = requestId(data);
  const events = runEvents((message) =>
    message.type === 'started' || message.type === 'progress' ? send({ ...message, requestId: id }) : reply(message),
  );
  host.run(data.topic, params, `request ${describe(data.requestId ?? null)} (${data.topic})`, events).then(
    (outcome) => events.ended(outcome, data.topic),
    (/** @type {unknown} */ failure) =>
      events.ended({ message: `The run failed: ${cut(String(failure), 200)}` }, data.topic),
  );
}

/** @param {FieldError[]} errors */
function limited(errors) {
  if (errors.length <= MAX_ERRORS) return errors;
  return [
    ...errors.slice(0, MAX_ERRORS),
    { field: 'params', message: `and ${errors.length - MAX_ERRORS} more problems` },
  ];
}

/**
 * The parameters as JSON values, field by field: a value JSON cannot carry (a BigInt, NaN or
 * Infinity, a cycle, a Date or Map or typed array, a lone surrogate, deep nesting) is an error for
 * its field, never left for JSON.stringify to throw on or to turn into null (and so a default).
 * @param {Record<string, unknown>} given a plain object
 * @returns {{params: Values, errors: FieldError[]}}
 */
export function toJson(given) {
  // Own keys, whatever their name (`__proto__` stays a name, which Rust calls unknown).
  /** @type {[string, unknown][]} */
  const params = [];
  /** @type {FieldError[]} */
  const errors = [];
  for (const key of Object.keys(given)) {
    const field = cut(key);
    if (!wellFormed(key)) {
      errors.push({ field, message: 'this name is not valid Unicode (a lone surrogate)' });
      continue;
    }
    const problem = { message: '' };
    const value = plainValue(given[key], [], problem);
    if (problem.message) errors.push({ field, message: `${field} ${problem.message}` });
    else if (value !== undefined) params.push([key, value]);
  }
  return { params: Object.fromEntries(params), errors };
}

/**
 * A JSON copy of `value`, or undefined with `problem.message` set. `ancestors` finds cycles.
 * @param {unknown} value
 * @param {object[]} ancestors
 * @param {{message: string}} problem
 * @returns {unknown}
 */
function plainValue(value, ancestors, problem) {
  switch (typeof value) {
    case 'string':
      if (!wellFormed(value)) problem.message = 'holds a lone surrogate, which is not valid Unicode';
      return value;
    case 'number':
      if (!Number.isFinite(value)) problem.message = `is ${value}, which is not a number JSON can carry`;
      return value;
    case 'boolean':
      return value;
    case 'undefined':
      return undefined; // as if not given, the way JSON.stringify leaves it out
    case 'bigint':
      problem.message = 'is a BigInt: send a Number, or the digits as a string';
      return undefined;
    case 'object':
      break;
    default:
      problem.message = `is a ${typeof value}, which a parameter cannot be`;
      return undefined;
  }
  if (value === null) return null;
  if (ancestors.includes(value)) {
    problem.message = 'refers to itself (a cycle), which JSON cannot carry';
    return undefined;
  }
  if (ancestors.length >= MAX_DEPTH) {
    problem.message = `is nested more than ${MAX_DEPTH} levels deep`;
    return undefined;
  }
  const inner = [...ancestors, value];
  if (Array.isArray(value)) {
    const out = [];
    for (const item of value) {
      const copy = plainValue(item, inner, problem);
      if (problem.message) return undefined;
      out.push(copy === undefined ? null : copy);
    }
    return out;
  }
  if (!isPlain(value)) {
    problem.message = `is a ${value?.constructor?.name ?? 'special'} object, which a parameter cannot be`;
    return undefined;
  }
  /** @type {[string, unknown][]} */
  const out = [];
  for (const key of Object.keys(value)) {
    if (!wellFormed(key)) {
      problem.message = 'holds a name that is not valid Unicode (a lone surrogate)';
      return undefined;
    }
    const copy = plainValue(/** @type {Record<string, unknown>} */ (value)[key], inner, problem);
    if (problem.message) return undefined;
    if (copy !== undefined) out.push([key, copy]);
  }
  return Object.fromEntries(out);
}

/**
 * A plain object (what JSON makes), not a Date, Map, typed array, Blob...
 * @param {object} value
 */
function isPlain(value) {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** @param {string} text */
function wellFormed(text) {
  // String.prototype.isWellFormed is newer than the es2023 library (and some browsers).
  const native = /** @type {{isWellFormed?: () => boolean}} */ (/** @type {unknown} */ (text)).isWellFormed;
  return typeof native === 'function' ? native.call(text) : !LONE_SURROGATE.test(text);
}

/**
 * Text from outside, cut for echoing: at most `max` characters, with "…" if cut.
 * @param {string} text
 */
export function cut(text, max = ECHO_CHARS) {
  const chars = Array.from(text.length > max * 2 ? text.slice(0, max * 2) : text);
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : chars.join('');
}

/**
 * A short description of a value from outside, for messages.
 * @param {unknown} value
 */
function describe(value) {
  if (typeof value === 'string') return `"${cut(value)}"`;
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'undefined')
    return String(value);
  if (typeof value === 'bigint') return `${cut(String(value))}n`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value !== 'object') return `a ${typeof value}`;
  const name = isPlain(value) ? '' : value.constructor?.name;
  return name ? `a ${name} object` : 'an object';
}
