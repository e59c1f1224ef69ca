// "Embed…" on the full page: the topic shown, with the form's values, as code for a course page
// (embed.js's helper or a plain iframe), each with a Copy button. Loaded once a first run can start.

import { h, replace } from './dom.js';
import { queryFor } from './url-state.js';

/** @typedef {import('./types.js').Topic} Topic @typedef {import('./types.js').Values} Values */

/**
 * The Embed… button: the topic with the form's values (`values`) as embed code for a course page.
 * @param {Topic} topic
 * @param {() => Values} values
 */
export function embedButton(topic, values) {
  const box = h('div', { class: 'embed-snippet', hidden: true });
  return h(
    'span',
    { class: 'embed-control' },
    h('button', {
      type: 'button',
      id: 'embed',
      text: 'Embed…',
      'aria-expanded': 'false',
      onclick: (/** @type {MouseEvent} */ event) => {
        const query = queryFor(topic, values());
        // origin=: only the course page may drive the embed (a placeholder to replace: as it is,
        // no page may, which fails closed).
        const src = new URL(`embed.html${query}&origin=https://course.example`, window.location.href).href;
        // The values that differ from the defaults, numbers as numbers.
        const numeric = new Set(topic.params.filter((p) => p.type === 'int' || p.type === 'float').map((p) => p.name));
        const params = Object.fromEntries(
          [...new URLSearchParams(query)]
            .filter(([key]) => key !== 'topic')
            .map(([key, value]) => [key, numeric.has(key) ? Number(value) : value]),
        );
        // Text inside an HTML attribute quoted with `quote`.
        const attribute = (/** @type {string} */ text, quote = '"') =>
          text.replaceAll('&', '&amp;').replaceAll(quote, quote === '"' ? '&quot;' : '&#39;');
        replace(
          box,
          snippetBox(
            'With the helper (resizes itself; the page can run and stop it)',
            `<script src="${new URL('embed.js', window.location.href).href}" defer></script>\n<div data-concurrency-topic="${topic.id}" data-params='${attribute(JSON.stringify(params), "'")}'></div>`,
          ),
          snippetBox(
            'As a plain iframe: put your course site for https://course.example in origin= (only it may then drive the embed; without origin=, any page may)',
            `<iframe src="${attribute(src)}" title="${attribute(topic.title)}" width="100%" height="760" loading="lazy" allow="cross-origin-isolated"></iframe>`,
          ),
        );
        box.hidden = !box.hidden;
        /** @type {HTMLElement} */ (event.currentTarget).setAttribute('aria-expanded', String(!box.hidden));
      },
    }),
    box,
  );
}

/**
 * A labelled, read-only snippet of embed code and its Copy button.
 * @param {string} label
 * @param {string} snippet
 */
function snippetBox(label, snippet) {
  const area = /** @type {HTMLTextAreaElement} */ (
    h('textarea', { readonly: true, rows: 3, 'aria-label': label, class: 'snippet' })
  );
  area.value = snippet;
  const status = h('span', { class: 'code-status', role: 'status' });
  const copy = h('button', {
    type: 'button',
    text: 'Copy',
    onclick: () =>
      navigator.clipboard?.writeText(snippet).then(
        () => (status.textContent = 'Copied.'),
        () => (status.textContent = 'The browser did not allow copying: select the text and copy it.'),
      ),
  });
  return h('div', { class: 'snippet-row' }, h('p', { class: 'snippet-label', text: label }), area, copy, status);
}
