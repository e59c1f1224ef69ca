// The topic and its parameters live in the URL, so a reload or a shared link shows the same page.
// How the page is shown (theme, panels...: display.js) stays in the URL beside them.

import { DISPLAY_KEYS, displayQuery } from './display.js';

/** @typedef {import('./types.js').Topic} Topic @typedef {import('./types.js').Values} Values */

/** @returns {{topic: string | null, params: Record<string, string>}} */
export function readUrl(location = window.location) {
  const query = new URLSearchParams(location.search);
  const topic = query.get('topic');
  // Own keys, whatever their name: `?__proto__=1` is a parameter Rust calls unknown, not a prototype.
  const params = Object.fromEntries([...query].filter(([key]) => key !== 'topic' && !DISPLAY_KEYS.includes(key)));
  return { topic, params };
}

/**
 * The query string for a topic with the values that differ from their defaults. Picked files are
 * never in it (they are the learner's, and too big): a reload or a shared link has none.
 * @param {Topic} topic
 * @param {Values} values
 * @param {Values} [defaults]
 */
export function queryFor(topic, values, defaults = {}) {
  const query = new URLSearchParams({ topic: topic.id });
  for (const param of topic.params) {
    if (param.type === 'files') continue;
    const value = Object.hasOwn(values, param.name) ? values[param.name] : undefined;
    const fallback = Object.hasOwn(defaults, param.name) ? defaults[param.name] : param.default;
    if (value === undefined || value === '' || String(value) === String(fallback)) continue;
    query.set(param.name, String(value));
  }
  return `?${query}`;
}

/**
 * Updates the address bar without adding a history entry per keystroke; display keys stay.
 * @param {Topic} topic
 * @param {Values} values
 */
export function writeUrl(topic, values) {
  const display = displayQuery().toString();
  const url = `${window.location.pathname}${queryFor(topic, values)}${display ? `&${display}` : ''}`;
  if (url !== `${window.location.pathname}${window.location.search}`) history.replaceState(null, '', url);
}
