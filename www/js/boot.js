// The shell's start: loads the catalog, starts the engine, routes by URL to the home page
// (home-page.js) or a topic (topic-page.js), and, embedded, answers the page around it
// (embed-host.js). The catalog is a static file (src/bin/export_static.rs), so a topic's
// explanation and form show while the wasm still loads; Run waits for the engine. Runs, Stop and
// how a run ends are run-controller.js's.

import { PANELS, applyDisplay, readDisplay } from './display.js';
import { h, replace } from './dom.js';
import { completeCatalog, isWhole, loadFirst, loadIndex, partOf } from './catalog.js';
import { compileEngine } from '../engine/engine-start.js';
import { Engine } from './engine-client.js';
import { RunController } from './run-controller.js';
import { NETWORK_PARTS, engineFlavor } from '../engine/flavor.js';
import { readUrl } from './url-state.js';
import { homePage } from './home-page.js';
import { loadResults, topicPage } from './topic-page.js';

/**
 * What the page's parts share, passed to each (no module holds it): `runs` owns the engine and
 * every run; `ready` says the engine can run, until then `caps` is what the page expects of it;
 * `topic`, `form`, `runForm` and `execute` are the topic shown's (topic-page.js); `learnerRun`
 * gives the events of a run the parent did not ask for (the learner's, or autorun), when embedded.
 * @typedef {{embed: boolean, display: ReturnType<typeof readDisplay>, app: HTMLElement, runs: RunController,
 *   catalog: import('./types.js').Catalog, caps: import('./types.js').Caps, ready: boolean, engineReady: Promise<Engine>,
 *   topic: import('./types.js').Topic | null, form: ReturnType<typeof import('./form.js').buildForm> | null,
 *   runForm: (by: string) => Promise<void>, execute: (params: import('./types.js').Values, events: import('./embed-api.js').RunEvents | null) => Promise<import('./embed-api.js').RunEnd>,
 *   learnerRun: ((by: string) => import('./embed-api.js').RunEvents) | null}} Page
 */

const embed = document.body.dataset.view === 'embed';
/** The theme applies to every page; panels, compact, autorun and origin only to the embed. */
const display = readDisplay();
if (!embed)
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
// What only a run or an embedding page needs loads once a first run can start (see boot), so
// the first load is the topic and the engine: the results' views, the embed API and the code
// below the fold (topic-page.js).
/** Only an embedded page answers a course page: the full page never loads the embed's host. */
const embedHostLoaded = embed ? import('./embed-host.js') : null;
/** @type {() => void} called once a first run can start: the topic page's code view and extras wait for it */
let readyToLoad = () => {};
const firstRunCanStart = new Promise((resolve) => (readyToLoad = () => resolve(undefined)));

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

/** @type {Page} */
const page = {
  embed,
  display,
  app: /** @type {HTMLElement} */ (document.getElementById('app')),
  runs: new RunController(),
  catalog: { chapters: [], parts: {}, lessons: {}, diagnostics: '', topics: [] },
  caps: expectedCaps(),
  ready: false,
  engineReady: new Promise(() => {}), // resolves to the engine once it is ready for a first run
  topic: null,
  form: null,
  runForm: async () => {},
  execute: async () => ({}),
  learnerRun: null,
};
const topics = topicPage(page, firstRunCanStart);
const home = homePage(page, route);

async function boot() {
  replace(page.app, h('p', { class: 'loading', role: 'status', text: 'Loading the playground…' }));
  // A topic page's first load has only its own topic whole (the rest when the learner goes
  // elsewhere, or the embed's parent asks about another topic: see route and embed-host.js).
  const catalog = loadFirst(readUrl().topic);
  // The engine comes in parts (src/topics/mod.rs): the one that runs the topic asked for is
  // compiled as soon as the catalog says which it is.
  const part = loadIndex()
    .catch(() => catalog)
    .then((c) => partOf(c, readUrl().topic));
  part.then(compileEngine, () => {});
  // The service worker (simulated network, offline use) must be in control before an engine
  // worker whose topics fetch starts, or their requests would bypass it: on a first visit an
  // engine of a network part waits for it. Any other part's engine starts at once, and the
  // service worker registers once a first run can start (see boot), out of the first load; a
  // switch to a network part later starts a new engine worker, by then under its control.
  // (Without one, the engine still runs: it simulates the network itself.)
  const started = part.then(async (first) => {
    if (NETWORK_PARTS.includes(first) && !navigator.serviceWorker?.controller) await registered();
    page.runs.engine = new Engine(first, (topic) => partOf(page.catalog, topic));
    return page.runs.engine;
  });
  page.engineReady = started.then((e) => e.ready.then(() => e));
  page.engineReady.catch(() => {}); // said below
  try {
    page.catalog = await catalog;
  } catch (error) {
    replace(
      page.app,
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
  if (!embed) home.renderNav();
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
      page.app,
      h('p', {
        class: 'status failed',
        role: 'alert',
        text: `The engine could not start: ${/** @type {Error} */ (error).message}. Reload the page to try again.`,
      }),
    );
    return;
  }
  page.caps = ready.caps;
  document.documentElement.dataset.threads = String(page.caps.threads);
  showIsolation();
  await shown;
  page.ready = true;
  topics.engineIsReady();
  if (embedHostLoaded) {
    const { embedHost, loadEmbedApi } = await embedHostLoaded;
    page.learnerRun = (await loadEmbedApi()).listen(embedHost(page, topics), display.origins);
  }
  document.body.dataset.ready = 'true';
  if (embed && display.autorun && page.topic) page.runForm('autorun');
  performance.mark('playground-ready'); // when a first run can start (the benchmark reads it)
  readyToLoad();
  loadResults();
  registered().then(async () => (await serviceWorker()).warmServiceWorkerLater()); // it warms what controls the page
}

/** The service worker's module: a page of a network part needs it at once, others once a first run can start. */
const serviceWorker = () => import('./service-worker.js');
/** @type {Promise<boolean> | null} */
let registering = null;
/** Registers the service worker, once; resolves once it controls the page (false if it does not). */
function registered() {
  registering ??= serviceWorker()
    .then(({ registerServiceWorker }) => registerServiceWorker({ timeoutMs: 2000 }))
    .catch(() => false);
  return registering;
}

function showIsolation() {
  const badge = document.getElementById('isolation');
  if (!badge) return;
  badge.textContent = page.caps.threads
    ? `Threads on · ${page.caps.cores} cores`
    : `Threads off: ${page.caps.isolated ? 'no shared memory in this browser' : 'page not cross-origin isolated'}`;
  badge.className = `badge ${page.caps.threads ? 'on' : 'off'}`;
  if (!page.caps.threads) badge.title = topics.threadsOffReason();
}

/** Shows what the URL names: a topic, or the home page. */
async function route() {
  const { topic: id, params } = readUrl();
  const known = page.catalog.topics.find((t) => t.id === id);
  if (!known?.params && !isWhole(page.catalog)) {
    try {
      await completeCatalog(page);
    } catch (error) {
      if (readUrl().topic !== id) return;
      replace(
        page.app,
        h('p', {
          class: 'status failed',
          role: 'alert',
          text: `The playground could not load this topic (${/** @type {Error} */ (error).message}): pick it again, or reload the page.`,
        }),
      );
      return;
    }
    if (readUrl().topic !== id) return; // the learner went on meanwhile: that route shows it
  }
  const topic = page.catalog.topics.find((t) => t.id === id);
  for (const link of document.querySelectorAll('#topics a'))
    link.toggleAttribute('aria-current', link.getAttribute('data-topic') === id);
  if (!topic) {
    home.renderHome(id);
    return;
  }
  await topics.showTopic(topic, params);
}

boot();
