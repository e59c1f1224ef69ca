// A topic's texts (explanation, the Rust code that runs, the Python equivalent) live in
// pkg/texts/<id>.json, written at build time from the topic's Rust file. They are fetched when a
// topic is shown rather than shipped in the wasm, which keeps the first download small; the
// explanation alone comes from pkg/explanations/<id>.json (tools/split-static.mjs), so a first
// load does not wait for the code, mostly Rust, shown below the fold once a first run can start.

import { h, replace } from './dom.js';

/** @typedef {import('./types.js').Topic} Topic @typedef {import('./types.js').Texts} Texts */

/** @type {Map<string, Promise<any>>} by path */
const cache = new Map();

/**
 * Resolves to a topic's file under pkg/`folder`/, fetched once; rejects with a readable message.
 * @param {string} folder @param {Topic} topic
 */
function fetchOnce(folder, topic) {
  const path = `${folder}/${encodeURIComponent(topic.id)}.json`;
  let texts = cache.get(path);
  if (!texts) {
    const request = fetch(new URL(`../pkg/${path}`, import.meta.url)).then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    });
    // A failed fetch is not remembered: the next visit tries again.
    request.catch(() => cache.delete(path));
    cache.set(path, request);
    texts = request;
  }
  return texts;
}

/**
 * Resolves to the topic's texts; rejects with a readable message.
 * @param {Topic} topic
 * @returns {Promise<Texts>}
 */
export const topicTexts = (topic) => fetchOnce('texts', topic);

/**
 * An element filled with `render(texts)` once they arrive, or with a notice if they cannot load.
 * @param {Topic} topic
 * @param {string} className
 * @param {(texts: Texts) => Promise<Node[]> | Node[]} render
 */
export function withTexts(topic, className, render) {
  return filled(topicTexts(topic), className, render);
}

/**
 * An element filled with `render(value)` once `loading` resolves, or with a notice if it rejects.
 * @template T
 * @param {Promise<T>} loading
 * @param {string} className
 * @param {(value: T) => Promise<Node[]> | Node[]} render
 */
function filled(loading, className, render) {
  const box = h('div', { class: className, 'aria-busy': 'true' }, h('p', { class: 'muted', text: 'Loading…' }));
  loading
    .then(render)
    .then((nodes) => replace(box, ...nodes))
    .catch((error) =>
      replace(
        box,
        h('p', {
          class: 'notice',
          text: `This text could not be loaded (${error.message ?? error}); the topic still runs.`,
        }),
      ),
    )
    .finally(() => box.removeAttribute('aria-busy'));
  return box;
}

/**
 * The explanation: paragraphs separated by blank lines, as plain text.
 * @param {Topic} topic
 */
export function explanationView(topic) {
  /** @type {Promise<Pick<Texts, 'explanation'>>} */
  const explanation = fetchOnce('explanations', topic);
  return filled(explanation, 'explanation', (texts) =>
    texts.explanation.split(/\n\s*\n/).map((p) => h('p', { text: p.trim() })),
  );
}
