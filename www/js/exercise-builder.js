// The exercise builder on a topic page ("For your LMS…"): the parameters as the form has them now,
// the panels to show and the prediction prompt to ask, and from them the embed snippet, the link,
// and a SCORM 1.2 package to download (scorm.js) for any LMS's gradebook. Knows no topic.

import { PANELS } from './display.js';
import { h, replace } from './dom.js';
import { queryFor } from './url-state.js';

/**
 * @typedef {import('./types.js').Topic} Topic
 * @typedef {import('./types.js').Values} Values
 */

/** @type {Promise<typeof import('./scorm.js')> | null} */
let scorm = null;
/** The package's zip writer, loaded when the builder is first opened (not part of a first load). */
const loadScorm = () => {
  scorm ??= import('./scorm.js');
  return scorm;
};

/**
 * The builder's button and its box (hidden until pressed).
 * @param {Topic} topic
 * @param {() => Values} values the form's values now
 */
export function exerciseBuilder(topic, values) {
  const box = h('div', { class: 'exercise-builder', id: 'exercise-builder', hidden: true });
  const button = h('button', {
    type: 'button',
    id: 'for-your-lms',
    text: 'For your LMS…',
    'aria-expanded': 'false',
    'aria-controls': 'exercise-builder',
    onclick: () => {
      loadScorm();
      if (box.hidden) replace(box, ...builder(topic, values()));
      box.hidden = !box.hidden;
      button.setAttribute('aria-expanded', String(!box.hidden));
    },
  });
  return h('span', { class: 'embed-control' }, button, box);
}

/**
 * @param {Topic} topic
 * @param {Values} values
 */
function builder(topic, values) {
  const query = queryFor(topic, values);
  /** The parameters that differ from the defaults, as the embed's URL takes them. */
  const params = Object.fromEntries([...new URLSearchParams(query)].filter(([key]) => key !== 'topic'));
  const prompt = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { id: 'exercise-prompt' },
      h('option', {
        value: '',
        text: topic.prompts.length ? 'Every question the topic asks' : 'This topic asks no question',
      }),
      ...topic.prompts.map((p) => h('option', { value: p.id, text: p.question })),
    )
  );
  if (topic.prompts.length === 1) prompt.value = topic.prompts[0].id;
  const panels = PANELS.map(
    (panel) =>
      /** @type {HTMLInputElement} */ (
        h('input', {
          type: 'checkbox',
          id: `exercise-panel-${panel}`,
          value: panel,
          checked: ['params', 'results', 'timeline'].includes(panel),
        })
      ),
  );
  const out = h('div', { class: 'exercise-out' });
  const link = h('a', { id: 'exercise-link', target: '_blank', rel: 'noopener' });
  const snippet = /** @type {HTMLTextAreaElement} */ (
    h('textarea', {
      readonly: true,
      rows: 3,
      class: 'snippet',
      id: 'exercise-snippet',
      'aria-label': 'Embed snippet for this exercise',
    })
  );

  const exercise = () => {
    const chosen = topic.prompts.find((p) => p.id === prompt.value) ?? null;
    const shown = panels.filter((p) => p.checked).map((p) => p.value);
    return {
      topic: { id: topic.id, title: topic.title },
      params,
      prompt: chosen && { id: chosen.id, question: chosen.question },
      panels: shown.length && shown.length < PANELS.length ? shown : null,
      playground: new URL('.', window.location.href).href,
    };
  };
  const update = () => {
    const e = exercise();
    const url = new URL(`embed.html${query}`, window.location.href);
    if (e.prompt) url.searchParams.set('prompt', e.prompt.id);
    if (e.panels) url.searchParams.set('panels', e.panels.join(','));
    link.setAttribute('href', url.href);
    link.textContent = url.href;
    const attribute = (/** @type {string} */ text) =>
      text.replaceAll('&', '&amp;').replaceAll("'", '&#39;').replaceAll('"', '&quot;');
    const extra = [
      e.prompt ? ` data-prompt="${attribute(e.prompt.id)}"` : '',
      e.panels ? ` data-panels="${attribute(e.panels.join(','))}"` : '',
    ].join('');
    snippet.value = `<script src="${new URL('embed.js', window.location.href).href}" defer></script>\n<div data-concurrency-topic="${topic.id}" data-params='${attribute(JSON.stringify(params))}'${extra}></div>`;
  };
  const download = h('button', {
    type: 'button',
    id: 'exercise-download',
    text: 'Download the SCORM 1.2 package',
    onclick: async () => {
      const e = exercise();
      const { packageName, scormPackage } = await loadScorm();
      const blob = new Blob([scormPackage(e)], { type: 'application/zip' });
      const a = h('a', { href: URL.createObjectURL(blob), download: packageName(e) });
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.getAttribute('href') ?? ''), 10_000);
    },
  });
  prompt.addEventListener('change', update);
  for (const p of panels) p.addEventListener('change', update);
  update();
  replace(
    out,
    h('p', { class: 'snippet-label', text: 'Link (an embed of this exercise):' }),
    h('p', {}, link),
    h('p', { class: 'snippet-label', text: 'Embed snippet for a course page (with embed.js):' }),
    snippet,
    h('p', {}, download),
  );
  const fixed = Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return [
    h('p', {
      class: 'muted',
      text: `The exercise fixes the parameters as the form has them now (${fixed || 'the defaults'}). A learner predicts, runs and sees the measurement; an LMS that imports the package records completion and the score (100 for a right prediction, 0 otherwise).`,
    }),
    h('p', {}, h('label', { for: 'exercise-prompt', text: 'Question to ask: ' }), prompt),
    h(
      'fieldset',
      { class: 'exercise-panels' },
      h('legend', { text: 'Panels to show' }),
      ...panels.map((p) => h('span', { class: 'predict-choice' }, p, h('label', { for: p.id, text: p.value }))),
    ),
    out,
  ];
}
