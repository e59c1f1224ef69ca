// The postMessage API of an embedded topic, so a course page can drive it:
//   iframe.contentWindow.postMessage({type: 'run', topic, params, requestId}, '*')
// answers {type: 'result', requestId, topic, status, modes, speedup, values, lanes, checks}
// or {type: 'error', requestId, message, errors}. On load it posts {type: 'ready', topics}.
// A file parameter may be passed as [{name, data}] with data in base64 (never through the URL);
// the result's params list the files as {name, size}, without their bytes.
//
// Every message that reaches the listener gets exactly one answer carrying its requestId: an
// error for anything that is not a valid run request (unknown type, bad shape, values JSON cannot
// carry), at once; one run at a time (a second request while one runs is refused, naming it).

/** How long a name or value from the parent may be when it is echoed back. */
const ECHO_CHARS = 40;
/** Nesting deeper than this is refused here (Rust's JSON reader stops at 128). */
const MAX_DEPTH = 64;
/** At most this many field errors in one answer. */
const MAX_ERRORS = 20;

/** Short, serializable summary of a report for the parent page. */
export function summarize(report) {
  const ok = report.modes.filter((m) => m.status === 'ok');
  return {
    topic: report.topic,
    status: report.status,
    params: report.params,
    wallMs: report.wall_ms,
    modes: report.modes.map((m) => ({ id: m.id, label: m.label, status: m.status, wallMs: m.wall_ms, speedup: m.speedup, result: m.result, lanes: m.lanes, note: m.note })),
    speedup: Math.max(0, ...ok.map((m) => m.speedup ?? 0)),
    lanes: Math.max(0, ...report.modes.map((m) => m.lanes)),
    values: report.values,
    checks: report.checks,
  };
}

/**
 * @typedef {{report?: any, message?: string, errors?: any[], fullPage?: string}} Outcome
 * @param {(topic: string, params: Record<string, any>, request: string) => Promise<Outcome>} runTopic
 *   must claim the engine before its first await, and refuse at once while another run holds it
 * @param {string[]} topics
 */
export function listen(runTopic, topics) {
  if (window.parent === window) return;
  window.parent.postMessage({ type: 'ready', topics }, '*');
  window.addEventListener('message', (event) => {
    if (event.source === window) return; // the page's own messages are not requests
    const reply = replier(event);
    try {
      answer(event.data, reply, runTopic, topics);
    } catch (error) {
      reply({ type: 'error', message: `The request could not be handled: ${cut(String(error), 200)}`, errors: [] });
    }
  });
}

/** Sends the one answer to a message (later calls do nothing), with the message's requestId. */
function replier(event) {
  const { id } = requestId(event.data);
  let sent = false;
  return (/** @type {any} */ message) => {
    if (sent) return;
    sent = true;
    const payload = { ...message, requestId: id };
    const origin = !event.origin || event.origin === 'null' ? '*' : event.origin;
    const target = /** @type {Window | null} */ (event.source) ?? window.parent;
    try {
      target.postMessage(payload, { targetOrigin: origin });
    } catch (error) {
      // A result that cannot be cloned (it never should) still gets an answer.
      target.postMessage({ type: 'error', requestId: id, message: `The answer could not be sent: ${cut(String(error), 200)}`, errors: [] }, { targetOrigin: origin });
    }
  };
}

/** The message's requestId as it is echoed: a number, or a string of at most 200 characters; else null. */
function requestId(data) {
  const given = data !== null && typeof data === 'object' && !Array.isArray(data) ? data.requestId : undefined;
  if (given === undefined || given === null) return { id: null, ok: true };
  if (typeof given === 'number' || (typeof given === 'string' && given.length <= 200)) return { id: given, ok: true };
  return { id: null, ok: false };
}

function answer(data, reply, runTopic, topics) {
  const error = (message, errors = []) => reply({ type: 'error', message, errors });
  const usage = "send {type: 'run', topic, params, requestId}";
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return error(`The playground answers messages like {type: 'run', ...}, not ${describe(data)}: ${usage}.`);
  if (!requestId(data).ok) return error('requestId must be a string (at most 200 characters) or a number.');
  if (data.type !== 'run') return error(`Unknown message type ${describe(data.type)}: ${usage}.`);
  if (typeof data.topic !== 'string' || !topics.includes(data.topic)) return error(`Unknown topic: ${describe(data.topic)}.`, [{ field: 'topic', message: 'unknown topic' }]);
  const given = data.params ?? {};
  if (typeof given !== 'object' || Array.isArray(given) || !isPlain(given)) {
    return error('Some parameters could not be read.', [{ field: 'params', message: `params must be an object of names and values, not ${describe(given)}` }]);
  }
  const { params, errors } = toJson(given);
  if (errors.length) return error('Some parameters could not be read.', limited(errors));
  runTopic(data.topic, params, `request ${describe(data.requestId ?? null)} (${data.topic})`).then(
    (outcome) => {
      // The answer is about this request's topic, or it is an error.
      if (outcome.report && outcome.report.topic === data.topic) reply({ type: 'result', ...summarize(outcome.report) });
      else if (outcome.report) error('The run that ended was not this request\'s: send it again.');
      else reply({ type: 'error', message: outcome.message ?? 'The run did not finish.', errors: limited(outcome.errors ?? []), ...(outcome.fullPage ? { fullPage: outcome.fullPage } : {}) });
    },
    (failure) => error(`The run failed: ${cut(String(failure), 200)}`),
  );
}

function limited(errors) {
  if (errors.length <= MAX_ERRORS) return errors;
  return [...errors.slice(0, MAX_ERRORS), { field: 'params', message: `and ${errors.length - MAX_ERRORS} more problems` }];
}

/**
 * The parameters as JSON values, field by field: a value JSON cannot carry (a BigInt, NaN or
 * Infinity, a cycle, a Date or Map or typed array, a lone surrogate, deep nesting) is an error for
 * its field, never left for JSON.stringify to throw on or to turn into null (and so a default).
 * @returns {{params: Record<string, any>, errors: {field: string, message: string}[]}}
 */
export function toJson(given) {
  /** @type {Record<string, any>} */
  const params = {};
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
    else if (value !== undefined) params[key] = value;
  }
  return { params, errors };
}

/** A JSON copy of `value`, or undefined with `problem.message` set. `ancestors` finds cycles. */
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
  /** @type {Record<string, any>} */
  const out = {};
  for (const key of Object.keys(value)) {
    if (!wellFormed(key)) {
      problem.message = 'holds a name that is not valid Unicode (a lone surrogate)';
      return undefined;
    }
    const copy = plainValue(value[key], inner, problem);
    if (problem.message) return undefined;
    if (copy !== undefined) out[key] = copy;
  }
  return out;
}

/** A plain object (what JSON makes), not a Date, Map, typed array, Blob... */
function isPlain(value) {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function wellFormed(text) {
  const native = /** @type {any} */ (text).isWellFormed;
  return typeof native === 'function' ? native.call(text) : !LONE_SURROGATE.test(text);
}

/** Text from outside, cut for echoing: at most `max` characters, with "…" if cut. */
export function cut(text, max = ECHO_CHARS) {
  const chars = Array.from(text.length > max * 2 ? text.slice(0, max * 2) : text);
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : chars.join('');
}

/** A short description of a value from outside, for messages. */
function describe(value) {
  if (typeof value === 'string') return `"${cut(value)}"`;
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'undefined') return String(value);
  if (typeof value === 'bigint') return `${cut(String(value))}n`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value !== 'object') return `a ${typeof value}`;
  const name = isPlain(value) ? '' : value.constructor?.name;
  return name ? `a ${name} object` : 'an object';
}
