// Predict, then run: the questions a topic asks before a run (the catalog's `prompts`, from
// src/predict.rs), the learner's answers above Run, and after the run each answer beside what was
// measured, graded against what Rust accepted (`report.predictions`). Knows no topic: kinds only.
// Each answer given at Run and each outcome is also a window event ('playground-prediction',
// detail {type: 'prediction' | 'outcome', topic, prompt, statement}) shaped as an xAPI statement,
// which the embed API passes to the course page.

import { h } from './dom.js';

/**
 * @typedef {import('./types.js').Topic} Topic
 * @typedef {import('./types.js').Prompt} Prompt
 * @typedef {import('./types.js').Judged} Judged
 * @typedef {import('./types.js').Report} Report
 * @typedef {import('./types.js').Values} Values
 * @typedef {{prompt: Prompt, element: HTMLElement, read: () => number | string | null, lock: (locked: boolean) => void}} Asked
 * @typedef {{topic: Topic, params: Values, answers: Map<string, number | string>}} Committed
 */

/** Where the xAPI verbs and activity types come from (the ADL registry's ids). */
const ADL = 'http://adlnet.gov/expapi';
const VERBS = {
  answered: { id: `${ADL}/verbs/answered`, display: { 'en-US': 'answered' } },
  passed: { id: `${ADL}/verbs/passed`, display: { 'en-US': 'passed' } },
  failed: { id: `${ADL}/verbs/failed`, display: { 'en-US': 'failed' } },
  completed: { id: `${ADL}/verbs/completed`, display: { 'en-US': 'completed' } },
};

/** The prompts shown now, and what was answered when the last run started. */
const shown = {
  /** @type {Topic | null} */ topic: null,
  /** @type {Asked[]} */ asked: [],
  /** @type {Committed | null} */ committed: null,
};

/**
 * The questions of `topic` as a small group of fields to put above Run (null when it asks none).
 * `only` (the URL's `prompt=`) keeps one prompt.
 * @param {Topic} topic
 * @param {string | null} [only]
 * @returns {HTMLElement | null}
 */
export function predictionBox(topic, only = null) {
  const prompts = (topic.prompts ?? []).filter((p) => !only || p.id === only);
  shown.topic = topic;
  shown.committed = null;
  shown.asked = prompts.map(ask);
  if (!shown.asked.length) return null;
  return h(
    'fieldset',
    { class: 'predict', id: 'predict' },
    h('legend', { text: 'Predict, then run' }),
    h('p', {
      class: 'muted',
      text: 'Answer before you press Run (or leave it blank): the results will show your answer beside what was measured.',
    }),
    ...shown.asked.map((a) => a.element),
  );
}

/**
 * One question's fields: radio buttons for a choice, a number field for a number.
 * @param {Prompt} prompt
 * @returns {Asked}
 */
function ask(prompt) {
  const id = `predict-${prompt.id}`;
  if (prompt.kind === 'number') {
    const input = /** @type {HTMLInputElement} */ (
      h('input', {
        type: 'number',
        id,
        name: id,
        min: prompt.min,
        max: prompt.max,
        step: prompt.step,
        inputmode: 'decimal',
        dataset: { prompt: prompt.id },
      })
    );
    const element = h(
      'div',
      { class: 'predict-prompt' },
      h('label', { for: id, text: prompt.question }),
      h('span', { class: 'predict-number' }, input, prompt.unit ? h('span', { text: ` ${prompt.unit}` }) : null),
    );
    const read = () =>
      input.value.trim() === '' || !Number.isFinite(input.valueAsNumber) ? null : input.valueAsNumber;
    return { prompt, element, read, lock: (locked) => (input.disabled = locked) };
  }
  const radios = prompt.choices.map(
    (c) =>
      /** @type {HTMLInputElement} */ (
        h('input', { type: 'radio', name: id, value: c.id, id: `${id}-${c.id}`, dataset: { prompt: prompt.id } })
      ),
  );
  const element = h(
    'fieldset',
    { class: 'predict-prompt' },
    h('legend', { text: prompt.question }),
    h(
      'div',
      { class: 'predict-choices' },
      ...prompt.choices.map((c, i) =>
        h('span', { class: 'predict-choice' }, radios[i], h('label', { for: radios[i].id, text: c.label })),
      ),
    ),
  );
  const read = () => radios.find((r) => r.checked)?.value ?? null;
  return {
    prompt,
    element,
    read,
    lock: (locked) => {
      for (const r of radios) r.disabled = locked;
    },
  };
}

/**
 * A run starts: the answers given now are the prediction (the fields stay locked until it ends).
 * Each answer is announced as an 'answered' statement.
 * @param {Topic} topic
 * @param {Values} params the run's checked parameters
 */
export function commitPrediction(topic, params) {
  if (shown.topic?.id !== topic.id || !shown.asked.length) return;
  /** @type {Map<string, number | string>} */
  const answers = new Map();
  for (const asked of shown.asked) {
    const answer = asked.read();
    asked.lock(true);
    if (answer === null) continue;
    answers.set(asked.prompt.id, answer);
    emit('prediction', topic, asked.prompt, {
      verb: VERBS.answered,
      object: activity(topic, asked.prompt, params),
      result: { response: String(answer) },
      timestamp: new Date().toISOString(),
    });
  }
  shown.committed = { topic, params, answers };
}

/**
 * A run ended: shows each prompt's answer beside the measurement at the top of `results`, and
 * announces each outcome. Unlocks the fields for the next run.
 * @param {HTMLElement} results
 * @param {Report | null} report null when the run did not finish
 */
export function judgePrediction(results, report) {
  const committed = shown.committed;
  shown.committed = null;
  for (const asked of shown.asked) asked.lock(false);
  if (!committed || !report || report.topic !== committed.topic.id || report.status !== 'ok') return;
  const rows = [];
  for (const asked of shown.asked) {
    const judged = (report.predictions ?? []).find((j) => j.prompt === asked.prompt.id);
    if (!judged) continue;
    const answer = committed.answers.get(asked.prompt.id) ?? null;
    const right = answer === null ? null : grade(judged, answer);
    rows.push(outcomeRow(asked.prompt, judged, answer, right));
    const measured = judged.measured !== null;
    const verb = !measured || right === null ? VERBS.completed : right ? VERBS.passed : VERBS.failed;
    /** @type {Record<string, unknown>} */
    const result = {
      completion: true,
      ...(measured && right !== null
        ? { success: right, score: { raw: right ? 1 : 0, min: 0, max: 1, scaled: right ? 1 : 0 } }
        : {}),
      ...(answer !== null ? { response: String(answer) } : {}),
      extensions: {
        [extension('measured')]: judged.measured,
        [extension('shown')]: judged.shown,
        [extension('accepted')]: judged.accepted,
        [extension('explanation')]: judged.explanation,
      },
    };
    emit('outcome', committed.topic, asked.prompt, {
      verb,
      object: activity(committed.topic, asked.prompt, report.params),
      result,
      timestamp: new Date().toISOString(),
    });
  }
  if (!rows.length) return;
  results.prepend(
    h(
      'section',
      { class: 'prediction-outcome', id: 'prediction-outcome', 'aria-label': 'Your prediction and the measurement' },
      h('h3', { text: 'Your prediction' }),
      ...rows,
    ),
  );
}

/**
 * Whether `answer` is among what Rust accepted (the rule of src/predict.rs `grade`).
 * @param {Judged} judged
 * @param {number | string} answer
 */
export function grade(judged, answer) {
  const accepted = judged.accepted;
  if (accepted.type === 'range')
    return typeof answer === 'number' && Number.isFinite(answer) && accepted.min <= answer && answer <= accepted.max;
  if (accepted.type === 'choices') return typeof answer === 'string' && accepted.ids.includes(answer);
  return false;
}

/**
 * @param {Prompt} prompt
 * @param {Judged} judged
 * @param {number | string | null} answer
 * @param {boolean | null} right
 */
function outcomeRow(prompt, judged, answer, right) {
  const said = answer === null ? 'no answer' : words(prompt, answer);
  const verdict =
    judged.measured === null ? 'Not measured' : right === null ? 'No prediction' : right ? 'Right' : 'Not this time';
  const range = judged.accepted.type === 'range' ? ` (${judged.accepted.min} to ${judged.accepted.max} counts)` : '';
  return h(
    'div',
    {
      class: 'prediction',
      dataset: { prompt: prompt.id, verdict: right === null ? 'none' : right ? 'right' : 'wrong' },
    },
    h('p', { class: 'prediction-question', text: prompt.question }),
    h(
      'dl',
      { class: 'prediction-compare' },
      h('div', {}, h('dt', { text: 'You predicted' }), h('dd', { text: said })),
      h('div', {}, h('dt', { text: 'Measured' }), h('dd', { text: `${judged.shown}${range}` })),
      h('div', {}, h('dt', { text: 'Verdict' }), h('dd', { class: 'prediction-verdict', text: verdict })),
    ),
    h('p', { class: 'prediction-why', text: judged.explanation }),
  );
}

/**
 * An answer as the learner saw it: a choice's label, a number with its unit.
 * @param {Prompt} prompt
 * @param {number | string} answer
 */
function words(prompt, answer) {
  if (prompt.kind === 'number') return `${answer}${prompt.unit ? ` ${prompt.unit}` : ''}`;
  return prompt.choices.find((c) => c.id === answer)?.label ?? String(answer);
}

/**
 * The xAPI object: the topic's page for this prompt (an IRI), its question, and the parameters.
 * @param {Topic} topic
 * @param {Prompt} prompt
 * @param {Values} params
 */
function activity(topic, prompt, params) {
  const id = new URL(
    `index.html?topic=${encodeURIComponent(topic.id)}&prompt=${encodeURIComponent(prompt.id)}`,
    window.location.href,
  ).href;
  const choices =
    prompt.kind === 'number'
      ? {}
      : { choices: prompt.choices.map((c) => ({ id: c.id, description: { 'en-US': c.label } })) };
  return {
    objectType: 'Activity',
    id,
    definition: {
      name: { 'en-US': `${topic.title}: ${prompt.question}` },
      description: { 'en-US': prompt.question },
      type: `${ADL}/activities/cmi.interaction`,
      interactionType: prompt.kind === 'number' ? 'numeric' : 'choice',
      ...choices,
      extensions: {
        [extension('topic')]: topic.id,
        [extension('prompt')]: prompt.id,
        [extension('parameters')]: params,
      },
    },
  };
}

/** An extension key: an IRI under the playground's own address. @param {string} name */
function extension(name) {
  return new URL(`xapi/${name}`, window.location.href).href;
}

/**
 * @param {'prediction' | 'outcome'} type
 * @param {Topic} topic
 * @param {Prompt} prompt
 * @param {Record<string, unknown>} statement
 */
function emit(type, topic, prompt, statement) {
  window.dispatchEvent(
    new CustomEvent('playground-prediction', { detail: { type, topic: topic.id, prompt: prompt.id, statement } }),
  );
}
