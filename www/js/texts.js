// A topic's texts (explanation, the Rust code that runs, the Python equivalent) live in
// pkg/texts/<id>.json, written at build time from the topic's Rust file. They are fetched when a
// topic is shown rather than shipped in the wasm, which keeps the first download small.

import { h, replace } from './dom.js';

/** @typedef {import('./types.js').Topic} Topic @typedef {import('./types.js').Texts} Texts */

/** @type {Map<string, Promise<Texts>>} */
const cache = new Map();

/**
 * Resolves to the topic's texts; rejects with a readable message.
 * @param {Topic} topic
 * @returns {Promise<Texts>}
 */
export function topicTexts(topic) {
  let texts = cache.get(topic.id);
  if (!texts) {
    const url = new URL(`../pkg/texts/${encodeURIComponent(topic.id)}.json`, import.meta.url);
    const request = fetch(url).then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    });
    // A failed fetch is not remembered: the next visit tries again.
    request.catch(() => cache.delete(topic.id));
    cache.set(topic.id, request);
    texts = request;
  }
  return texts;
}

/**
 * An element filled with `render(texts)` once they arrive, or with a notice if they cannot load.
 * @param {Topic} topic
 * @param {string} className
 * @param {(texts: Texts) => Promise<Node[]> | Node[]} render
 */
export function withTexts(topic, className, render) {
  const box = h('div', { class: className, 'aria-busy': 'true' }, h('p', { class: 'muted', text: 'Loading…' }));
  topicTexts(topic)
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
  return withTexts(topic, 'explanation', (texts) =>
    texts.explanation.split(/\n\s*\n/).map((p) => h('p', { text: p.trim() })),
  );
}
