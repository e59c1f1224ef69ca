// The shell: loads the catalog from the engine, lists topics, routes by URL, and runs topics.
// It knows no topic by name: everything shown comes from the catalog and the reports.

import { codeView } from './code-view.js';
import { h, replace } from './dom.js';
import { listen } from './embed-api.js';
import { Engine } from './engine-client.js';
import { buildForm } from './form.js';
import { historyTable, remember } from './history.js';
import { renderLive, renderReport } from './results.js';
import { registerServiceWorker, warmServiceWorker } from './service-worker.js';
import { explanationView } from './texts.js';
import { queryFor, readUrl, writeUrl } from './url-state.js';

const EMBED = document.body.dataset.view === 'embed';
const app = /** @type {HTMLElement} */ (document.getElementById('app'));
/** @type {Engine} */
let engine;

/**
 * `claim` names who holds the engine (a Run press, or an embed request) from the moment it is
 * asked, before anything is awaited, so two requests can never both go ahead.
 * @type {{catalog: any, caps: any, topic: any, form: any, running: boolean, claim: string | null, execute: (params: any) => Promise<any>}}
 */
const state = { catalog: null, caps: null, topic: null, form: null, running: false, claim: null, execute: async () => ({}) };

/**
 * Takes the engine for `who`, synchronously; returns the release function, or null when another
 * request holds it.
 * @returns {(() => void) | null}
 */
function claimEngine(who) {
  if (state.claim !== null) return null;
  state.claim = who;
  const run = /** @type {HTMLButtonElement | null} */ (document.getElementById('run'));
  if (run) run.disabled = true;
  return () => {
    state.claim = null;
    const button = /** @type {HTMLButtonElement | null} */ (document.getElementById('run'));
    if (button) button.disabled = false;
  };
}

async function boot() {
  replace(app, h('p', { class: 'loading', role: 'status', text: 'Loading the engine…' }));
  // The service worker (simulated network, offline use) must be in control before the engine
  // worker starts, or the engine's requests would bypass it.
  await registerServiceWorker({ timeoutMs: 2000 });
  engine = new Engine();
  let ready;
  try {
    ready = await engine.ready;
  } catch (error) {
    replace(app, h('p', { class: 'status failed', role: 'alert', text: `The engine could not start: ${error.message}` }));
    return;
  }
  state.catalog = JSON.parse(ready.catalog);
  state.caps = ready.caps;
  document.documentElement.dataset.threads = String(state.caps.threads);
  showIsolation();
  if (!EMBED) renderNav();
  await route();
  window.addEventListener('popstate', () => route());
  if (EMBED) listen(runFromParent, state.catalog.topics.map((t) => t.id));
  document.body.dataset.ready = 'true';
  performance.mark('playground-ready'); // when a first run can start (the benchmark reads it)
  warmServiceWorker();
}

function showIsolation() {
  const badge = document.getElementById('isolation');
  if (!badge) return;
  badge.textContent = state.caps.threads ? `Threads on · ${state.caps.cores} cores` : 'Threads off: page not cross-origin isolated';
  badge.className = `badge ${state.caps.threads ? 'on' : 'off'}`;
}

function renderNav() {
  const nav = document.getElementById('topics');
  if (!nav) return;
  const groups = state.catalog.chapters.map((chapter) => {
    const topics = state.catalog.topics.filter((t) => t.chapter === chapter);
    if (!topics.length) return null;
    return h(
      'section',
      {},
      h('h2', { text: chapter }),
      h('ul', {}, ...topics.map((t) => h('li', {}, h('a', { href: `?topic=${encodeURIComponent(t.id)}`, dataset: { topic: t.id }, text: t.title, onclick: (e) => navigate(e, t) })))),
    );
  });
  replace(nav, ...groups);
}

function navigate(event, topic) {
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  if (state.running) engine.stop();
  history.pushState(null, '', `?topic=${encodeURIComponent(topic.id)}`);
  route();
}

async function route() {
  const { topic: id, params } = readUrl();
  const topic = state.catalog.topics.find((t) => t.id === id);
  for (const link of document.querySelectorAll('#topics a')) link.toggleAttribute('aria-current', link.getAttribute('data-topic') === id);
  if (!topic) {
    renderHome(id);
    return;
  }
  await showTopic(topic, params);
}

function renderHome(unknownId) {
  document.title = 'Concurrency Playground';
  const notice = unknownId ? h('p', { class: 'notice', role: 'alert', text: `There is no topic “${unknownId.slice(0, 60)}”. Pick one below.` }) : null;
  const cards = state.catalog.chapters.map((chapter) => {
    const topics = state.catalog.topics.filter((t) => t.chapter === chapter);
    if (!topics.length) return null;
    return h('section', { class: 'chapter' }, h('h2', { text: chapter }), h('ul', { class: 'cards' }, ...topics.map((t) => h('li', {}, h('a', { href: `?topic=${t.id}`, onclick: (e) => navigate(e, t) }, h('strong', { text: t.title })), h('p', { text: t.summary })))));
  });
  replace(
    app,
    notice,
    h('h1', { text: 'Concurrency Playground' }),
    h('p', { class: 'lead', text: 'Real threads, isolated workers and async tasks, compiled from Rust to WebAssembly and run in your browser. Pick a topic, change its parameters, press Run, and watch what ran where.' }),
    ...cards,
  );
}

async function showTopic(topic, rawParams) {
  state.topic = topic;
  document.title = `${topic.title} · Concurrency Playground`;
  const checked = await engine.check(topic.id, rawParams, true);
  const notices = checked.errors.map((e) => `Ignored ${e.field}=${String(rawParams[e.field] ?? '').slice(0, 40)}: ${e.message}. Using the default instead.`);

  const results = h('div', { class: 'results', id: 'results', 'aria-live': 'polite' }, h('p', { class: 'muted', text: 'Press Run to start.' }));
  const history = h('div', { class: 'history-view' }, historyTable(topic));
  const formStatus = h('p', { class: 'form-status', role: 'alert' });
  const form = buildForm(topic, checked.params, (values) => {
    syncUrl(topic, values);
    validateSoon(values);
  });
  state.form = form;
  syncUrl(topic, checked.params);
  engine.prepare(topic.id, checked.params);
  let timer = 0;
  const validateSoon = (values) => {
    clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const answer = await engine.check(topic.id, values, false);
      replace(formStatus, ...form.setErrors(answer.errors));
      if (answer.ok) engine.prepare(topic.id, answer.params);
    }, 150);
  };

  const runButton = h('button', { type: 'submit', class: 'primary', id: 'run', text: 'Run' });
  const stopButton = h('button', { type: 'button', id: 'stop', text: 'Stop', disabled: true, onclick: () => engine.stop() });
  const presetButtons = topic.presets.map((p) =>
    h('button', {
      type: 'button',
      class: 'preset',
      text: p.label,
      onclick: () => {
        // A preset sets the other fields, not the learner's picked files.
        const settings = topic.params.filter((x) => x.type !== 'files');
        form.setValues({ ...Object.fromEntries(settings.map((x) => [x.name, x.default])), ...p.values });
        syncUrl(topic, form.values());
        validateSoon(form.values());
      },
    }),
  );
  const resetButton = h('button', {
    type: 'button',
    class: 'preset',
    text: 'Defaults',
    onclick: () => {
      form.setValues(Object.fromEntries(topic.params.map((x) => [x.name, x.default])));
      syncUrl(topic, form.values());
      form.setErrors([]);
      replace(formStatus);
    },
  });

  const controls = h(
    'form',
    {
      class: 'params',
      'aria-label': 'Parameters',
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        runForm();
      },
    },
    form.element,
    h('div', { class: 'presets' }, ...presetButtons, resetButton),
    h('div', { class: 'actions' }, runButton, stopButton, EMBED ? null : embedButton(topic)),
    formStatus,
  );

  async function runForm() {
    const release = claimEngine(`the run of ${topic.title} started from the form`);
    if (!release) return;
    try {
      await checkAndRun();
    } finally {
      release();
    }
  }

  async function checkAndRun() {
    await form.settled();
    const answer = await engine.check(topic.id, form.values(), false);
    const unplaced = form.setErrors(answer.errors);
    if (!answer.ok) {
      replace(formStatus, unplaced.length ? unplaced.join(' ') : 'Some parameters are not valid: see the messages next to the fields.');
      /** @type {HTMLElement | null} */ (controls.querySelector('[aria-invalid="true"]'))?.focus();
      return;
    }
    replace(formStatus);
    await execute(topic, answer.params, { results, history, runButton, stopButton });
  }
  state.execute = (params) => execute(topic, params, { results, history, runButton, stopButton });

  replace(
    app,
    h('h1', { text: topic.title }),
    h('p', { class: 'summary', text: topic.summary }),
    ...notices.map((n) => h('p', { class: 'notice', role: 'alert', text: n })),
    isolationNotice(topic),
    explanationView(topic),
    h('section', { class: 'panel' }, h('h2', { text: 'Parameters' }), controls),
    h('section', { class: 'panel' }, h('h2', { text: 'Results' }), results),
    h('section', { class: 'panel' }, h('h2', { text: 'Last runs' }), history),
    h('section', { class: 'panel' }, h('h2', { text: 'Code' }), codeView(topic)),
  );
}

/** Keeps the address bar (and the embed's "open in the playground" link) in step with the form. */
function syncUrl(topic, values) {
  writeUrl(topic, values);
  const full = document.getElementById('full-page');
  if (full) full.setAttribute('href', `index.html${queryFor(topic, values)}`);
}

/** The same topic and values in a full page, where threads can run. */
function fullPageUrl(topic, values) {
  return new URL(`index.html${queryFor(topic, values)}`, window.location.href).href;
}

function isolationNotice(topic) {
  const threadModes = topic.modes.filter((m) => m.model === 'threads');
  if (state.caps.threads || !threadModes.length) return null;
  const full = { href: fullPageUrl(topic, state.form?.values?.() ?? {}) };
  const none = threadModes.length === topic.modes.length;
  const what = none
    ? 'Every mode of this topic uses them, so nothing can run here. '
    : `${threadModes.map((m) => m.label).join(', ')} will show as unavailable; the other modes run normally. `;
  return h(
    'div',
    { class: 'notice isolation', role: 'note' },
    h('strong', { text: none ? 'This topic cannot run here. ' : 'Threads are unavailable here. ' }),
    `Shared-memory threads need a cross-origin isolated page, and this one is not (an embed on an ordinary site, or a server without the isolation headers). ${what}`,
    h('a', { href: full.href, target: '_blank', rel: 'noopener', text: 'Open this topic in a full page' }),
    '.',
  );
}

function embedButton(topic) {
  const box = h('div', { class: 'embed-snippet', hidden: true });
  return h(
    'span',
    {},
    h('button', {
      type: 'button',
      id: 'embed',
      text: 'Embed…',
      onclick: () => {
        const src = new URL(`embed.html${queryFor(topic, state.form.values())}`, window.location.href).href;
        const snippet = `<iframe src="${src}" title="${topic.title}" width="100%" height="760" loading="lazy" allow="cross-origin-isolated"></iframe>`;
        const area = /** @type {HTMLTextAreaElement} */ (h('textarea', { readonly: true, rows: 3, 'aria-label': 'Embed code', class: 'snippet' }));
        area.value = snippet;
        const copy = h('button', { type: 'button', text: 'Copy', onclick: () => navigator.clipboard?.writeText(snippet).then(() => (copy.textContent = 'Copied')) });
        replace(box, area, copy);
        box.hidden = !box.hidden;
        area.select();
      },
    }),
    box,
  );
}

/**
 * Runs a topic and shows it. Resolves to `{report}` or `{message, errors}`.
 * @returns {Promise<{report?: any, message?: string, errors?: any[]}>}
 */
async function execute(topic, params, view) {
  if (state.running) return { message: 'A run is already in progress.' };
  state.running = true;
  const claimed = state.claim === null ? claimEngine(`the run of ${topic.title}`) : null;
  view.runButton.disabled = true;
  view.stopButton.disabled = false;
  document.body.dataset.running = 'true';
  const live = { log: [], spans: [], progress: null };
  let frame = 0;
  renderLive(view.results, live, topic.modes);
  const outcome = await engine.run(topic.id, params, (drained) => {
    live.log.push(...drained.log);
    live.spans.push(...drained.spans);
    live.progress = drained.progress;
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => renderLive(view.results, live, topic.modes));
  });
  cancelAnimationFrame(frame);
  try {
    return show(outcome, view, topic, params);
  } catch (error) {
    console.error('could not show the run', error);
    replace(view.results, h('p', { class: 'status failed', role: 'alert', text: `The run ended but could not be shown: ${error}` }));
    return { message: String(error) };
  } finally {
    state.running = false;
    claimed?.();
    view.runButton.disabled = state.claim !== null;
    view.stopButton.disabled = true;
    delete document.body.dataset.running;
    // Counts finished runs, so tests (and embedding pages) can tell a new result from an old one.
    document.body.dataset.runs = String(Number(document.body.dataset.runs ?? 0) + 1);
  }
}

/** Shows how a run ended: its report, why it was refused or could not run here, or why the engine was restarted. */
function show(outcome, view, topic, params) {
  if (outcome.outcome === 'unavailable') {
    const fullPage = fullPageUrl(topic, params);
    const link = h('a', { href: fullPage, target: '_blank', rel: 'noopener', text: 'Open this topic in a full page' });
    replace(view.results, h('p', { class: 'status failed', role: 'alert', text: outcome.message }), h('p', {}, link, ', where it runs.'));
    return { message: outcome.message, fullPage };
  }
  if (outcome.outcome === 'finished') {
    renderReport(view.results, outcome.report, topic.modes);
    remember(outcome.report);
    replace(view.history, historyTable(topic));
    return { report: outcome.report };
  }
  if (outcome.outcome === 'rejected') {
    const unplaced = state.form.setErrors(outcome.errors ?? []);
    replace(view.results, h('p', { class: 'status failed', role: 'alert', text: [outcome.message, ...unplaced].join(' ') }));
    return { message: outcome.message, errors: outcome.errors };
  }
  const restarted = /restarted/.test(outcome.message) ? null : h('p', { class: 'muted', text: 'The engine was restarted; you can run again.' });
  replace(view.results, h('p', { class: 'status failed', role: 'alert', text: outcome.message }), restarted);
  return { message: outcome.message };
}

/**
 * The embed API: switch to the topic if needed, show the values in the form, and run. The engine
 * is claimed before the first await: a request that comes meanwhile is refused, naming this one.
 */
function runFromParent(topicId, params, request) {
  const release = claimEngine(request);
  if (!release) {
    const running = state.claim;
    return Promise.resolve({ message: `Busy: ${running} is still going. One run at a time: send this request when that one has answered.` });
  }
  return checkAndRunFromParent(topicId, params).finally(release);
}

async function checkAndRunFromParent(topicId, params) {
  const topic = state.catalog.topics.find((t) => t.id === topicId);
  if (state.topic?.id !== topicId) {
    history.replaceState(null, '', `?topic=${encodeURIComponent(topicId)}`);
    await showTopic(topic, {});
  }
  const answer = await engine.check(topicId, params, false);
  // The page may have moved on meanwhile (the back button): never run another topic's form.
  if (state.topic?.id !== topicId) return { message: 'The page switched topics before the run started: send the request again.' };
  // The form shows what the parent asked for, so each message sits next to the value it is about.
  if (!answer.ok) state.form.setValues(shortValues(params));
  state.form.setErrors(answer.errors);
  if (!answer.ok) return { message: 'Some parameters are not valid.', errors: answer.errors };
  state.form.setValues(answer.params);
  syncUrl(topic, answer.params);
  return state.execute(answer.params);
}

/** Values as the form may show them: long text from the parent is cut. */
function shortValues(params) {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…` : v]));
}

boot();
