// The last runs of each topic, kept in localStorage so they can be compared across reloads.
// Storage may be blocked (e.g. in a third-party iframe): then history lives in memory only.

import { h, ms, scrollBox } from './dom.js';

/** @typedef {import('./types.js').Report} Report @typedef {import('./types.js').ModeStatus} ModeStatus */

/**
 * One remembered run (what `remember` keeps of a report).
 * @typedef {{at: number, status: import('./types.js').RunStatus, params: import('./types.js').Values,
 *   modes: {id: string, label: string, wall: number | null, speedup: number | null, status: ModeStatus}[]}} Entry
 */

const KEEP = 8;
/** @type {Map<string, Entry[]>} */
const memory = new Map();

/** @param {string} topic @returns {Entry[]} */
function load(topic) {
  try {
    return JSON.parse(localStorage.getItem(`history:${topic}`) ?? '[]');
  } catch {
    return memory.get(topic) ?? [];
  }
}

/** @param {string} topic @param {Entry[]} entries */
function save(topic, entries) {
  memory.set(topic, entries);
  try {
    localStorage.setItem(`history:${topic}`, JSON.stringify(entries));
  } catch {
    // Storage is unavailable; memory keeps this session's runs.
  }
}

/**
 * Remembers a finished run's parameters and per-mode wall times.
 * @param {Report} report
 */
export function remember(report) {
  /** @type {Entry} */
  const entry = {
    at: report.started_at,
    status: report.status,
    params: report.params,
    modes: report.modes.map((m) => ({
      id: m.id,
      label: m.label,
      wall: m.wall_ms,
      speedup: m.speedup,
      status: m.status,
    })),
  };
  save(report.topic, [entry, ...load(report.topic)].slice(0, KEEP));
}

/**
 * A table of the last runs: one row per run, one column per mode.
 * @param {import('./types.js').Topic} topic
 */
export function historyTable(topic) {
  const entries = load(topic.id);
  if (!entries.length) return h('p', { class: 'muted', text: 'No runs yet.' });
  const columns = ['When', 'Parameters', ...topic.modes.map((m) => m.label)];
  const rows = entries.map((e) =>
    h(
      'tr',
      {},
      h('td', { text: new Date(e.at).toLocaleTimeString() }),
      h('td', {
        class: 'params-cell',
        text: Object.entries(e.params)
          .filter(([, v]) => !isEmptyList(v))
          .map(([k, v]) => `${k}=${shown(v)}`)
          .join(' '),
      }),
      ...topic.modes.map((m) => {
        const mode = e.modes.find((x) => x.id === m.id);
        const text = !mode
          ? ''
          : mode.wall === null
            ? mode.status
            : `${ms(mode.wall)}${mode.speedup ? ` (${mode.speedup.toFixed(2)}×)` : ''}`;
        return h('td', { class: 'num', text });
      }),
    ),
  );
  return scrollBox(
    'Last runs',
    h(
      'table',
      { class: 'data history' },
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', {}, ...rows),
    ),
  );
}

const isEmptyList = (/** @type {unknown} */ v) => Array.isArray(v) && !v.length;

/** A value as text; a list of picked files (reports give `{name, size}`, never the bytes) by their names. */
const shown = (/** @type {unknown} */ v) =>
  Array.isArray(v)
    ? v
        .map((/** @type {import('./types.js').FileValue | string} */ f) => (typeof f === 'string' ? f : (f?.name ?? f)))
        .join(',')
    : v;
