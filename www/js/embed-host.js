// The embed's host: what the embed API (embed-api.js) asks of the page when a course page drives
// it (run, stop, setParams, getState). Runs, Stop and "one at a time" go through the run
// controller (run-controller.js), as the learner's own do.

import { completeCatalog, defaultsOf } from './catalog.js';
import { STOPPED_BEFORE_START } from './run-controller.js';
import { writeUrl } from './url-state.js';

/**
 * @typedef {import('./types.js').Topic} Topic
 * @typedef {import('./types.js').Values} Values
 * @typedef {import('./embed-api.js').RunEnd} RunEnd
 * @typedef {import('./embed-api.js').RunEvents} RunEvents
 * @typedef {import('./boot.js').Page} Page
 * @typedef {import('./engine-client.js').Engine} Engine
 */

/** @type {Promise<typeof import('./embed-api.js')> | null} */
let embedApi = null;
/** The embed API, loaded once a first run can start (only an embedded page needs it). */
export const loadEmbedApi = () => (embedApi ??= import('./embed-api.js'));

/**
 * @param {Page} page
 * @param {ReturnType<typeof import('./topic-page.js').topicPage>} topics the topic page
 */
export function embedHost(page, { showTopic, threadsOffReason, syncUrl, shownForm }) {
  /** The engine: the embed API listens once the page has one. */
  const engine = () => /** @type {Engine} */ (page.runs.engine);
  /**
   * What the embed API asks of the page (embed-api.js).
   * @returns {import('./embed-api.js').Host}
   */
  function host() {
    return {
      topics: page.catalog.topics.map((t) => t.id),
      ready: () => ({ topics: page.catalog.topics.map((t) => t.id), topic: topicInfo(), capabilities: capabilities() }),
      state: embedState,
      run: runFromParent,
      stop: () => page.runs.stop(),
      setParams: setParamsFromParent,
    };
  }

  const topicInfo = () => (page.topic ? { id: page.topic.id, title: page.topic.title } : null);

  function capabilities() {
    const { threads, cores, isolated, flavor } = page.caps;
    return { threads, cores, isolated, flavor, reason: threads ? null : threadsOffReason() };
  }

  /** The embed's state for the parent: the form's values (checked by Rust), and the page.runs. */
  async function embedState() {
    const topic = page.topic;
    const values = topic ? shownForm().values() : {};
    const checked = topic ? await engine().check(topic.id, values, false) : { ok: true, params: {}, errors: [] };
    return {
      protocol: 1,
      topic: topicInfo(),
      params: checked.ok ? checked.params : withoutBytes(values),
      valid: checked.ok,
      errors: checked.errors,
      running: page.runs.running,
      runningBy: page.runs.by,
      runs: page.runs.runs,
      last: page.runs.last && (await loadEmbedApi()).endMessage(page.runs.last.end, page.runs.last.topic),
      capabilities: capabilities(),
    };
  }

  /**
   * Picked files as {name, size}: their bytes are the learner's and too big to post.
   * @param {Values} values
   */
  function withoutBytes(values) {
    return Object.fromEntries(
      Object.entries(values).map(([k, v]) => [
        k,
        Array.isArray(v)
          ? v.map((/** @type {import('./types.js').FileValue | null} */ f) => ({ name: f?.name, size: f?.size }))
          : v,
      ]),
    );
  }

  /**
   * The embed API: switch to the topic if needed, show the values in the form, and run. The engine
   * is claimed before the first await: a request that comes meanwhile is refused, naming this one.
   * @param {string} topicId
   * @param {Values} params
   * @param {string} request names it, for a request refused meanwhile
   * @param {RunEvents} events
   * @returns {Promise<RunEnd>}
   */
  function runFromParent(topicId, params, request, events) {
    const release = page.runs.claim(request);
    if (!release) return Promise.resolve({ message: page.runs.busyMessage() });
    return checkAndRunFromParent(topicId, params, events).finally(release);
  }

  /** @param {string} topicId @param {Values} params @param {RunEvents} events @returns {Promise<RunEnd>} */
  async function checkAndRunFromParent(topicId, params, events) {
    const checked = await showAndFill(topicId, params);
    if ('message' in checked) return checked;
    if (page.runs.stopAsked) return { stopped: true, message: STOPPED_BEFORE_START };
    return page.execute(checked.params, events);
  }

  /**
   * setParams: the values in the form, checked, without running; an outcome only when refused.
   * @param {string | undefined} topicId
   * @param {Values} params
   * @returns {Promise<RunEnd | null>}
   */
  async function setParamsFromParent(topicId, params) {
    const release = page.runs.claim('a setParams request');
    if (!release) return { message: page.runs.busyMessage() };
    try {
      const checked = await showAndFill(topicId ?? page.topic?.id, params);
      if ('message' in checked) return checked;
      engine().prepare(checked.topic.id, checked.params);
      return null;
    } finally {
      release();
    }
  }

  /**
   * Shows the topic (if another one is shown) and the parent's values in its form, each message
   * next to the value it is about. Resolves to the checked params, or an outcome with a message.
   * @param {string | undefined} topicId
   * @param {Values} params
   * @returns {Promise<{topic: Topic, params: Values} | RunEnd & {message: string}>}
   */
  async function showAndFill(topicId, params) {
    let topic = page.catalog.topics.find((t) => t.id === topicId);
    // The first load has only the shown topic whole (catalog.js, loadFirst): the rest on demand.
    if (topic && !topic.params) {
      try {
        await completeCatalog(page);
      } catch (error) {
        return {
          message: `The playground could not load this topic (${/** @type {Error} */ (error).message}): ask again.`,
        };
      }
      topic = page.catalog.topics.find((t) => t.id === topicId);
    }
    if (!topic)
      return { message: 'No topic is shown: name one.', errors: [{ field: 'topic', message: 'unknown topic' }] };
    if (page.topic?.id !== topicId) {
      writeUrl(topic, {});
      await showTopic(topic, {});
    }
    const answer = await engine().check(topic.id, { ...defaultsOf(topic), ...params }, false);
    // The page may have moved on meanwhile (the back button): never run another topic's form.
    if (page.topic?.id !== topicId)
      return { message: 'The page switched topics before the run started: send the request again.' };
    const form = shownForm();
    if (!answer.ok) form.setValues(shortValues(params));
    form.setErrors(answer.errors);
    if (!answer.ok) return { message: 'Some parameters are not valid.', errors: answer.errors };
    form.setValues(answer.params);
    syncUrl(topic, answer.params);
    return { topic, params: answer.params };
  }

  /**
   * Values as the form may show them: long text from the parent is cut.
   * @param {Values} params
   */
  function shortValues(params) {
    return Object.fromEntries(
      Object.entries(params).map(([k, v]) => [k, typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…` : v]),
    );
  }

  return host();
}
