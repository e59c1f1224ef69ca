// The shell: loads the catalog, lists topics, routes by URL, and runs topics. The catalog is a
// static file (src/bin/export_static.rs), so a topic's explanation and form show while the wasm
// still loads; Run waits for the engine.
// It knows no topic by name: everything shown comes from the catalog and the reports.

import { codeView, highlightAfter } from './code-view.js';
import { PANELS, applyDisplay, readDisplay } from './display.js';
import { h, replace } from './dom.js';
import { defaultsOf, loadCatalog, partOf } from './catalog.js';
import { Engine, compileEngine } from './engine-client.js';
import { engineFlavor } from '../engine/flavor.js';
import { buildForm } from './form.js';
import { historyTable, remember } from './history.js';
import { commitPrediction, judgePrediction, predictionBox } from './predict.js';
import { exerciseBuilder } from './exercise-builder.js';
import { registerServiceWorker, warmServiceWorker, warmServiceWorkerLater } from './service-worker.js';
import { explanationView } from './texts.js';
import { queryFor, readUrl, writeUrl } from './url-state.js';

/**
 * @typedef {import('./types.js').Catalog} Catalog
 * @typedef {import('./types.js').Topic} Topic
 * @typedef {import('./types.js').Values} Values
 * @typedef {import('./types.js').Outcome} Outcome
 * @typedef {import('./embed-api.js').RunEnd} RunEnd
 * @typedef {import('./embed-api.js').RunEvents} RunEvents
 * @typedef {ReturnType<typeof buildForm>} Form
 * @typedef {{results: HTMLElement, history: HTMLElement, runButton: HTMLButtonElement, stopButton: HTMLButtonElement}} TopicView
 */

const EMBED = document.body.dataset.view === 'embed';
// What only a run or an embedding page needs loads once a first run can start (see boot), so
// the first load is the topic and the engine: the results' views, the embed API and the
// highlighter of the code below the fold.
/** @type {Promise<typeof import('./results.js')> | null} */
let resultsViews = null;
const loadResults = () => (resultsViews ??= import('./results.js'));
/** @type {Promise<typeof import('./embed-api.js')> | null} */
let embedApi = null;
const loadEmbedApi = () => (embedApi ??= import('./embed-api.js'));
const app = /** @type {HTMLElement} */ (document.getElementById('app'));
/** The theme applies to every page; panels, compact, autorun and origin only to the embed. */
const display = readDisplay();
if (!EMBED)
  Object.assign(display, {
    panels: new Set(PANELS),
    compact: false,
    autorun: false,
    origins: null,
    problems: display.problems.filter((p) => p.includes('theme=')),
  });
applyDisplay(display);
/** Panels left out of this embed, for the CSS that hides parts the results build (the timeline). */
document.documentElement.dataset.hiddenPanels = PANELS.filter((p) => !display.panels.has(p)).join(' ');
/** @type {Engine} created once the service worker is in control (see boot) */
let engine;
/** @type {() => void} called once a first run can start: the highlighter waits for it */
let readyToLoad = () => {};
highlightAfter(new Promise((resolve) => (readyToLoad = () => resolve(undefined))));
/** Resolves to the engine once it is ready for a first run. */
let engineReady = /** @type {Promise<Engine>} */ (new Promise(() => {}));
/**
 * The events of a run the parent did not ask for (the learner's, or autorun), when embedded.
 * @type {((by: string) => RunEvents) | null}
 */
let learnerRun = null;
/** One polite live region for how runs go: results replace their content, which would be read out whole. */
const announcer = h('div', { class: 'sr-only', id: 'announcer', role: 'status', 'aria-live': 'polite' });
document.body.append(announcer);

/**
 * `claim` names who holds the engine (a Run press, or an embed request) from the moment it is
 * asked, before anything is awaited, so two requests can never both go ahead; `released`
 * resolves when it lets go, and `stopping` says a stop came meanwhile (a run not yet started then
 * does not start). `by` is who started the run in progress: 'parent', 'learner' or 'autorun'; `runs`
 * counts the runs that ended, and `last` is how the last one ended (as the embed API says it).
 * `ready` says the engine can run; until then `caps` is what the page expects of it.
 * @type {{catalog: Catalog, caps: import('./types.js').Caps, ready: boolean, topic: Topic | null, form: Form | null, running: boolean, claim: string | null, released: Promise<void>, stopping: boolean, by: string | null, runs: number,
 *   last: import('./embed-api.js').Message | null, execute: (params: Values, events: RunEvents | null) => Promise<RunEnd>, runForm: (by: string) => Promise<void>}}
 */
const state = {
  catalog: { chapters: [], parts: {}, topics: [] },
  caps: expectedCaps(),
  ready: false,
  topic: null,
  form: null,
  running: false,
  claim: null,
  released: Promise.resolve(),
  stopping: false,
  by: null,
  runs: 0,
  last: null,
  execute: async () => ({}),
  runForm: async () => {},
};

/**
 * Takes the engine for `who`, synchronously; returns the release function, or null when another
 * request holds it.
 * @param {string} who
 * @returns {(() => void) | null}
 */
function claimEngine(who) {
  if (state.claim !== null) return null;
  state.claim = who;
  state.stopping = false;
  /** @type {() => void} */
  let free = () => {};
  state.released = new Promise((resolve) => (free = resolve));
  const run = /** @type {HTMLButtonElement | null} */ (document.getElementById('run'));
  if (run) run.disabled = true;
  return () => {
    state.claim = null;
    free();
    const button = /** @type {HTMLButtonElement | null} */ (document.getElementById('run'));
    if (button) button.disabled = !state.ready;
  };
}

/**
 * What the engine will most likely say it can do (threads where a shared memory can go to a
 * worker, as the engine decides), so the page can be drawn before it has loaded; the engine's own answer replaces it.
 * @returns {import('./types.js').Caps}
 */
function expectedCaps() {
  const flavor = engineFlavor();
  return {
    threads: flavor === 'threads',
    cores: navigator.hardwareConcurrency || 1,
    isolated: self.crossOriginIsolated === true,
    flavor,
  };
}

async function boot() {
  replace(app, h('p', { class: 'loading', role: 'status', text: 'Loading the playground…' }));
  const catalog = loadCatalog();
  // The engine comes in parts (src/topics/mod.rs): the one that runs the topic asked for is
  // compiled as soon as the catalog says which it is.
  const part = catalog.then((c) => partOf(c, readUrl().topic));
  part.then(compileEngine, () => {});
  // The service worker (simulated network, offline use) must be in control before the engine
  // worker starts, or the engine's requests would bypass it: on a first visit the engine waits
  // for it; a page it already controls starts the engine at once. (Without one, the engine still
  // runs: it simulates the network itself.)
  const controlled = registerServiceWorker({ timeoutMs: 2000 }).catch(() => false);
  const started = Promise.all([navigator.serviceWorker?.controller ? true : controlled, part]).then(
    ([, first]) => (engine = new Engine(first, (topic) => partOf(state.catalog, topic))),
  );
  engineReady = started.then((e) => e.ready.then(() => e));
  engineReady.catch(() => {}); // said below
  try {
    state.catalog = await catalog;
  } catch (error) {
    replace(
      app,
      h('p', {
        class: 'status failed',
        role: 'alert',
        text: `The playground could not load its list of topics (${/** @type {Error} */ (error).message}): reload the page.`,
      }),
    );
    return;
  }
  const badge = document.getElementById('isolation');
  if (badge) badge.textContent = 'Starting the engine…';
  if (!EMBED) renderNav();
  const shown = route(); // draws the topic now; its form is checked once the engine answers
  shown.catch(() => {}); // an engine that cannot start is said below
  performance.mark('playground-shown');
  window.addEventListener('popstate', () => route());
  let ready;
  try {
    ready = await (await started).ready;
  } catch (error) {
    // engine.ready rejects with an Error that says why.
    if (badge) badge.textContent = 'Engine failed';
    replace(
      app,
      h('p', {
        class: 'status failed',
        role: 'alert',
        text: `The engine could not start: ${/** @type {Error} */ (error).message}. Reload the page to try again.`,
      }),
    );
    return;
  }
  state.caps = ready.caps;
  document.documentElement.dataset.threads = String(state.caps.threads);
  showIsolation();
  await shown;
  state.ready = true;
  engineIsReady();
  if (EMBED) learnerRun = (await loadEmbedApi()).listen(embedHost(), display.origins);
  document.body.dataset.ready = 'true';
  if (EMBED && display.autorun && state.topic) state.runForm('autorun');
  performance.mark('playground-ready'); // when a first run can start (the benchmark reads it)
  readyToLoad();
  loadResults();
  warmServiceWorkerLater();
}

function showIsolation() {
  const badge = document.getElementById('isolation');
  if (!badge) return;
  badge.textContent = state.caps.threads
    ? `Threads on · ${state.caps.cores} cores`
    : `Threads off: ${state.caps.isolated ? 'no shared memory in this browser' : 'page not cross-origin isolated'}`;
  badge.className = `badge ${state.caps.threads ? 'on' : 'off'}`;
  if (!state.caps.threads) badge.title = threadsOffReason();
}

/** Why threads are off here, in a sentence (the badge's tooltip, the embed's capabilities). */
function threadsOffReason() {
  if (state.caps.fallback) return state.caps.fallback;
  if (!state.caps.isolated) {
    return window.parent === window
      ? 'This page is not cross-origin isolated: its server sends no Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers (the service worker adds them from the next load on, where it can).'
      : 'This embed is not cross-origin isolated: the page around it is not isolated, or the iframe lacks allow="cross-origin-isolated", and this browser does not isolate the embed by itself (Document-Isolation-Policy).';
  }
  return 'This page is cross-origin isolated, but this browser does not share WebAssembly memory with workers (WebKit without shared memory), so the playground runs its plain build and a full page would not help.';
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
      h(
        'ul',
        {},
        ...topics.map((t) =>
          h(
            'li',
            {},
            h('a', {
              href: `?topic=${encodeURIComponent(t.id)}`,
              dataset: { topic: t.id },
              text: t.title,
              onclick: (/** @type {MouseEvent} */ e) => navigate(e, t),
            }),
          ),
        ),
      ),
    );
  });
  replace(nav, ...groups);
}

/** @param {MouseEvent} event @param {Topic} topic */
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
  for (const link of document.querySelectorAll('#topics a'))
    link.toggleAttribute('aria-current', link.getAttribute('data-topic') === id);
  if (!topic) {
    renderHome(id);
    return;
  }
  await showTopic(topic, params);
}

/** @param {string | null} unknownId */
function renderHome(unknownId) {
  document.title = 'Concurrency Playground';
  const notice = unknownId
    ? h('p', { class: 'notice', role: 'alert', text: `There is no topic “${unknownId.slice(0, 60)}”. Pick one below.` })
    : null;
  const cards = state.catalog.chapters.map((chapter) => {
    const topics = state.catalog.topics.filter((t) => t.chapter === chapter);
    if (!topics.length) return null;
    return h(
      'section',
      { class: 'chapter' },
      h('h2', { text: chapter }),
      h(
        'ul',
        { class: 'cards' },
        ...topics.map((t) =>
          h(
            'li',
            {},
            h(
              'a',
              { href: `?topic=${t.id}`, onclick: (/** @type {MouseEvent} */ e) => navigate(e, t) },
              h('strong', { text: t.title }),
            ),
            h('p', { text: t.summary }),
          ),
        ),
      ),
    );
  });
  replace(
    app,
    notice,
    h('h1', { text: 'Concurrency Playground' }),
    h('p', {
      class: 'lead',
      text: 'Real threads, isolated workers and async tasks, compiled from Rust to WebAssembly and run in your browser. Pick a topic, change its parameters, press Run, and watch what ran where.',
    }),
    ...cards,
  );
}

/**
 * @param {Topic} topic
 * @param {Values} rawParams from the URL or the parent page, checked leniently
 */
async function showTopic(topic, rawParams) {
  state.topic = topic;
  document.title = `${topic.title} · Concurrency Playground`;
  const notice = (/** @type {string} */ text) => h('p', { class: 'notice', role: 'alert', text });
  const notices = h('div', { class: 'notices' }, ...display.problems.map(notice));
  const isolation = h('div', { class: 'isolation-notice' }, isolationNotice(topic));

  // Run waits for the engine, and for its part that has this topic (a topic of another part
  // starts that part's engine; see engine-client.js).
  const canRun = state.ready && engine.runs(topic.id);
  const results = h(
    'div',
    { class: 'results', id: 'results' },
    h('p', { class: 'muted', text: canRun ? 'Press Run to start.' : 'The engine is loading: Run works in a moment.' }),
  );
  const history = h('div', { class: 'history-view' }, historyTable(topic));
  const formStatus = h('p', { class: 'form-status', role: 'alert' });
  // The address bar's values until Rust has checked them (below, once the engine is ready).
  let edited = false;
  const form = buildForm(topic, rawParams, (values) => {
    edited = true;
    syncUrl(topic, values);
    validateSoon(values);
  });
  state.form = form;
  let timer = 0;
  // The form may be gone by the time the timer fires or the engine answers (another topic, or
  // this one shown again): a check for a form not shown is not asked (it would switch the engine
  // back to this topic's part) nor applied.
  const shown = () => state.form === form;
  const validateSoon = (/** @type {Values} */ values) => {
    clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const ready = await engineReady;
      if (!shown()) return;
      const answer = await ready.check(topic.id, values, false);
      if (!shown()) return;
      replace(formStatus, ...form.setErrors(answer.errors));
      if (answer.ok) engine.prepare(topic.id, answer.params);
    }, 150);
  };

  const runButton = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'submit', class: 'primary', id: 'run', text: 'Run', disabled: !canRun })
  );
  const stopButton = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', id: 'stop', text: 'Stop', disabled: true, onclick: () => engine.stop() })
  );
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
      onsubmit: (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        runForm();
      },
    },
    // Without the parameters panel the fields are hidden, and Run and Stop stay.
    h(
      'div',
      { class: 'fields-and-presets', hidden: !display.panels.has('params') },
      form.element,
      h('div', { class: 'presets' }, ...presetButtons, resetButton),
    ),
    predictionBox(topic, display.prompt),
    h(
      'div',
      { class: 'actions' },
      runButton,
      stopButton,
      EMBED ? null : embedButton(topic),
      EMBED ? null : exerciseBuilder(topic, () => form.values()),
    ),
    formStatus,
  );

  /** A run the learner asked for (or autorun); an embedding page hears how it goes. */
  async function runForm(by = 'learner') {
    const release = claimEngine(`the run of ${topic.title} started from the form`);
    if (!release) return;
    try {
      await checkAndRun(by);
    } finally {
      release();
    }
  }
  state.runForm = runForm;

  /** @param {string} by */
  async function checkAndRun(by) {
    await form.settled();
    const answer = await engine.check(topic.id, form.values(), false);
    if (!shown()) return; // the learner went to another topic meanwhile: no run of a form not shown
    const unplaced = form.setErrors(answer.errors);
    if (!answer.ok) {
      replace(
        formStatus,
        unplaced.length ? unplaced.join(' ') : 'Some parameters are not valid: see the messages next to the fields.',
      );
      /** @type {HTMLElement | null} */ (controls.querySelector('[aria-invalid="true"]'))?.focus();
      return;
    }
    replace(formStatus);
    if (state.stopping) return;
    const events = learnerRun?.(by) ?? null;
    const outcome = await execute(topic, answer.params, view, events, by);
    events?.ended(outcome, topic.id);
  }
  /** @type {TopicView} */
  const view = { results, history, runButton, stopButton };
  state.execute = (params, events) => execute(topic, params, view, events, 'parent');

  const titled = (/** @type {string} */ panel, /** @type {string} */ title, /** @type {Node[]} */ ...content) =>
    h(
      'section',
      { class: 'panel', dataset: { panel }, hidden: !display.panels.has(panel) },
      h('h2', { text: title }),
      ...content,
    );
  const code = { rust: display.panels.has('code'), python: display.panels.has('python') };
  replace(
    app,
    h('h1', { text: topic.title }),
    h('p', { class: 'summary', text: topic.summary }),
    notices,
    isolation,
    display.panels.has('explanation') ? explanationView(topic) : null,
    h(
      'section',
      { class: 'panel', dataset: { panel: 'params' } },
      h('h2', { text: display.panels.has('params') ? 'Parameters' : 'Run' }),
      controls,
    ),
    titled('results', 'Results', results),
    schedulerPanel(topic),
    titled('history', 'Last runs', history),
    code.rust || code.python ? titled(code.rust ? 'code' : 'python', 'Code', codeView(topic, code)) : null,
  );

  const ready = await engineReady;
  if (!shown()) return; // another topic (or this one again) is shown now: its own check is asked
  const checked = await ready.check(topic.id, { ...defaultsOf(topic), ...rawParams }, true);
  if (!shown()) return;
  if (state.ready && !canRun) engineIsReady();
  replace(
    notices,
    ...display.problems.map(notice),
    ...checked.errors.map((e) =>
      notice(
        `Ignored ${e.field}=${String(Object.hasOwn(rawParams, e.field) ? rawParams[e.field] : '').slice(0, 40)}: ${e.message}. Using the default instead.`,
      ),
    ),
  );
  replace(isolation, isolationNotice(topic)); // with the engine's own caps
  if (edited) return validateSoon(form.values());
  form.setValues(checked.params);
  syncUrl(topic, checked.params);
  engine.prepare(topic.id, checked.params);
}

/**
 * "Be the scheduler" for a topic with a scheduled lesson (scheduler.js, loaded when shown).
 * @param {Topic} topic
 */
function schedulerPanel(topic) {
  const goal = Object.hasOwn(state.catalog.lessons ?? {}, topic.id) ? state.catalog.lessons?.[topic.id] : undefined;
  if (!goal || !display.panels.has('results')) return null;
  const body = h('div', { class: 'scheduler-mount' }, h('p', { class: 'muted', text: 'Loading the scheduler…' }));
  // Not once its topic has gone: its first question would switch the engine back to its part.
  import('./scheduler.js').then(
    ({ mountScheduler }) => state.topic === topic && mountScheduler(body, topic.id, goal, engineReady),
  );
  return h('section', { class: 'panel', dataset: { panel: 'schedule' } }, h('h2', { text: 'Be the scheduler' }), body);
}

/** Once the engine can run: Run works, and the topic shown says so. */
function engineIsReady() {
  const run = /** @type {HTMLButtonElement | null} */ (document.getElementById('run'));
  if (run) run.disabled = state.claim !== null;
  const waiting = document.querySelector('#results > p.muted');
  if (waiting && !state.running) waiting.textContent = 'Press Run to start.';
}

/**
 * Keeps the address bar (and the embed's "open in the playground" link) in step with the form.
 * @param {Topic} topic
 * @param {Values} values
 */
function syncUrl(topic, values) {
  writeUrl(topic, values);
  const full = document.getElementById('full-page');
  if (full) full.setAttribute('href', `index.html${queryFor(topic, values)}`);
}

/**
 * The same topic and values in a full page, where threads can run.
 * @param {Topic} topic
 * @param {Values} values
 */
function fullPageUrl(topic, values) {
  return new URL(`index.html${queryFor(topic, values)}`, window.location.href).href;
}

/** @param {Topic} topic */
function isolationNotice(topic) {
  const threadModes = topic.modes.filter((m) => m.model === 'threads');
  if (state.caps.threads || !threadModes.length) return null;
  const none = threadModes.length === topic.modes.length;
  const what = none
    ? 'Every mode of this topic uses them, so nothing can run here. '
    : `${threadModes.map((m) => m.label).join(', ')} will show as unavailable; the other modes run normally. `;
  return h(
    'div',
    { class: 'notice isolation', role: 'note' },
    h('strong', { text: none ? 'This topic cannot run here. ' : 'Threads are unavailable here. ' }),
    `${threadsOffReason()} ${what}`,
    ...fullPageLink(topic, state.form?.values?.() ?? {}),
  );
}

/**
 * A link to the same topic in a full page, where a full page would have threads (not when this
 * browser lacks shared memory whatever the page does).
 * @param {Topic} topic
 * @param {Values} values
 */
function fullPageLink(topic, values) {
  if (state.caps.isolated) return [];
  return [
    h('a', {
      href: fullPageUrl(topic, values),
      target: '_blank',
      rel: 'noopener',
      text: 'Open this topic in a full page',
    }),
    ', where it runs.',
  ];
}

/** @param {Topic} topic */
function embedButton(topic) {
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
        const query = queryFor(topic, shownForm().values());
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

/**
 * Runs a topic and shows it. Resolves to `{report}` or `{message, errors}`.
 * @param {Topic} topic
 * @param {Values} params checked
 * @param {TopicView} view
 * @param {RunEvents | null} events for an embedding page
 * @param {string} by who asked: 'parent', 'learner' or 'autorun'
 * @returns {Promise<RunEnd>}
 */
async function execute(topic, params, view, events, by) {
  if (state.running) return { message: 'A run is already in progress.' };
  state.running = true;
  state.by = by;
  const claimed = state.claim === null ? claimEngine(`the run of ${topic.title}`) : null;
  view.runButton.disabled = true;
  view.stopButton.disabled = false;
  document.body.dataset.running = 'true';
  /** @type {import('./types.js').Drained} */
  const live = { log: [], spans: [], progress: null };
  let frame = 0;
  const { renderLive } = await loadResults();
  renderLive(view.results, live, topic.modes);
  announce(`Running ${topic.title}…`);
  events?.started({ topic: topic.id, params, modes: topic.modes.map((m) => m.id) });
  commitPrediction(topic, params);
  // The service worker's wasm compiles before the run's clock starts, not beside its first mode.
  const outcome = await engine.run(
    topic.id,
    params,
    (drained) => {
      live.log.push(...drained.log);
      live.spans.push(...drained.spans);
      live.progress = drained.progress;
      events?.progress(live);
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => renderLive(view.results, live, topic.modes));
    },
    warmServiceWorker({ timeoutMs: 3000 }),
  );
  cancelAnimationFrame(frame);
  try {
    const shown = await show(outcome, view, topic, params);
    judgePrediction(view.results, shown.report ?? null);
    if (EMBED) state.last = (await loadEmbedApi()).endMessage(shown, topic.id);
    announce(ending(shown));
    return shown;
  } catch (error) {
    console.error('could not show the run', error);
    replace(view.results, h('p', { class: 'status failed', text: `The run ended but could not be shown: ${error}` }));
    announce(`The run ended but could not be shown: ${error}`);
    return { message: String(error) };
  } finally {
    state.running = false;
    state.by = null;
    claimed?.();
    view.runButton.disabled = state.claim !== null;
    view.stopButton.disabled = true;
    delete document.body.dataset.running;
    // Counts finished runs, so tests (and embedding pages) can tell a new result from an old one.
    document.body.dataset.runs = String(++state.runs);
  }
}

/**
 * Shows how a run ended: its report, why it was refused or could not run here, or why the engine was restarted.
 * @param {Outcome} outcome
 * @param {TopicView} view
 * @param {Topic} topic
 * @param {Values} params
 * @returns {Promise<RunEnd>} once everything is shown
 */
async function show(outcome, view, topic, params) {
  if (outcome.outcome === 'unavailable') {
    const fullPage = state.caps.isolated ? undefined : fullPageUrl(topic, params);
    replace(
      view.results,
      h('p', { class: 'status failed', text: `${outcome.message} ${threadsOffReason()}` }),
      h('p', {}, ...fullPageLink(topic, params)),
    );
    return { message: outcome.message, fullPage };
  }
  if (outcome.outcome === 'finished') {
    const drawn = (await loadResults()).renderReport(view.results, outcome.report, topic.modes);
    remember(outcome.report);
    replace(view.history, historyTable(topic));
    await drawn;
    return { report: outcome.report };
  }
  if (outcome.outcome === 'rejected') {
    // Field messages go next to the fields of this run's topic, if its form is still shown.
    const unplaced =
      state.topic === topic
        ? shownForm().setErrors(outcome.errors ?? [])
        : (outcome.errors ?? []).map((e) => e.message);
    replace(view.results, h('p', { class: 'status failed', text: [outcome.message, ...unplaced].join(' ') }));
    return { message: outcome.message, errors: outcome.errors };
  }
  if (outcome.outcome === 'unsent') {
    replace(view.results, h('p', { class: 'status stopped', text: outcome.message }));
    return { stopped: true, message: outcome.message };
  }
  const restarted = /restarted/.test(outcome.message)
    ? null
    : h('p', { class: 'muted', text: 'The engine was restarted; you can run again.' });
  replace(view.results, h('p', { class: 'status failed', text: outcome.message }), restarted);
  return { message: outcome.message };
}

/**
 * Says something in the live region (set after a tick, so a repeated text is read again).
 * @param {string} text
 */
function announce(text) {
  announcer.textContent = '';
  setTimeout(() => (announcer.textContent = text), 50);
}

/**
 * How a run ended, for the live region: its status line and how its checks went.
 * @param {RunEnd} outcome
 */
function ending(outcome) {
  const report = outcome.report;
  if (!report) return outcome.message ?? 'The run did not finish.';
  const status = document.querySelector('#results .status')?.textContent ?? report.status;
  const passed = report.checks.filter((c) => c.ok).length;
  return report.checks.length ? `${status} ${passed} of ${report.checks.length} checks passed.` : status;
}

/**
 * What the embed API asks of the page (embed-api.js).
 * @returns {import('./embed-api.js').Host}
 */
function embedHost() {
  return {
    topics: state.catalog.topics.map((t) => t.id),
    ready: () => ({ topics: state.catalog.topics.map((t) => t.id), topic: topicInfo(), capabilities: capabilities() }),
    state: embedState,
    run: runFromParent,
    stop: stopAll,
    setParams: setParamsFromParent,
  };
}

const topicInfo = () => (state.topic ? { id: state.topic.id, title: state.topic.title } : null);

function capabilities() {
  const { threads, cores, isolated, flavor } = state.caps;
  return { threads, cores, isolated, flavor, reason: threads ? null : threadsOffReason() };
}

/** The embed's state for the parent: the form's values (checked by Rust), and the runs. */
async function embedState() {
  const topic = state.topic;
  const values = topic ? shownForm().values() : {};
  const checked = topic ? await engine.check(topic.id, values, false) : { ok: true, params: {}, errors: [] };
  return {
    protocol: 1,
    topic: topicInfo(),
    params: checked.ok ? checked.params : withoutBytes(values),
    valid: checked.ok,
    errors: checked.errors,
    running: state.running,
    runningBy: state.by,
    runs: state.runs,
    last: state.last,
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

/** Stops the run in progress (or one about to start); resolves, once the engine is free, to whether there was one. */
async function stopAll() {
  if (state.claim === null) return false;
  state.stopping = true;
  if (state.running) engine.stop();
  await state.released;
  return true;
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
  const release = claimEngine(request);
  if (!release) return Promise.resolve(busy());
  return checkAndRunFromParent(topicId, params, events).finally(release);
}

function busy() {
  return {
    message: `Busy: ${state.claim} is still going. One run at a time: send this request when that one has answered.`,
  };
}

/** @param {string} topicId @param {Values} params @param {RunEvents} events @returns {Promise<RunEnd>} */
async function checkAndRunFromParent(topicId, params, events) {
  const checked = await showAndFill(topicId, params);
  if ('message' in checked) return checked;
  if (state.stopping) return { stopped: true, message: 'Stopped before the run started.' };
  return state.execute(checked.params, events);
}

/**
 * setParams: the values in the form, checked, without running; an outcome only when refused.
 * @param {string | undefined} topicId
 * @param {Values} params
 * @returns {Promise<RunEnd | null>}
 */
async function setParamsFromParent(topicId, params) {
  const release = claimEngine('a setParams request');
  if (!release) return busy();
  try {
    const checked = await showAndFill(topicId ?? state.topic?.id, params);
    if ('message' in checked) return checked;
    engine.prepare(checked.topic.id, checked.params);
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
  const topic = state.catalog.topics.find((t) => t.id === topicId);
  if (!topic)
    return { message: 'No topic is shown: name one.', errors: [{ field: 'topic', message: 'unknown topic' }] };
  if (state.topic?.id !== topicId) {
    writeUrl(topic, {});
    await showTopic(topic, {});
  }
  const answer = await engine.check(topic.id, { ...defaultsOf(topic), ...params }, false);
  // The page may have moved on meanwhile (the back button): never run another topic's form.
  if (state.topic?.id !== topicId)
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

/** The form of the topic shown: there is one once a topic is shown, which every caller waits for. */
function shownForm() {
  if (!state.form) throw new Error('no topic is shown yet');
  return state.form;
}

boot();
