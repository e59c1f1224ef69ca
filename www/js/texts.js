// A topic's texts (explanation, the Rust code that runs, the Python equivalent) live in
// pkg/texts/<id>.json, written at build time from the topic's Rust file. They are fetched when a
// topic is shown rather than shipped in the wasm, which keeps the first download small.

import { h, replace } from './dom.js';

/** @type {Map<string, Promise<{explanation: string, code: string, python: string}>>} */
const cache = new Map();

/** Resolves to the topic's texts; rejects with a readable message. */
export function topicTexts(topic) {
  if (!cache.has(topic.id)) {
    const url = new URL(`../pkg/texts/${encodeURIComponent(topic.id)}.json`, import.meta.url);
    const request = fetch(url).then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    });
    // A failed fetch is not remembered: the next visit tries again.
    request.catch(() => cache.delete(topic.id));
    cache.set(topic.id, request);
  }
  return cache.get(topic.id);
}

/**
 * An element filled with `render(texts)` once they arrive, or with a notice if they cannot load.
 * @param {any} topic
 * @param {string} className
 * @param {(texts: {explanation: string, code: string, python: string}) => Promise<Node[]> | Node[]} render
 */
export function withTexts(topic, className, render) {
  const box = h('div', { class: className, 'aria-busy': 'true' }, h('p', { class: 'muted', text: 'Loading…' }));
  topicTexts(topic)
    .then(render)
    .then((nodes) => replace(box, ...nodes))
    .catch((error) => replace(box, h('p', { class: 'notice', text: `This text could not be loaded (${error.message ?? error}); the topic still runs.` })))
    .finally(() => box.removeAttribute('aria-busy'));
  return box;
}

/** The explanation: paragraphs separated by blank lines, as plain text. */
export function explanationView(topic) {
  return withTexts(topic, 'explanation', (texts) => texts.explanation.split(/\n\s*\n/).map((p) => h('p', { text: p.trim() })));
}
