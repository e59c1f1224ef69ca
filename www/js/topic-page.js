// The topic page: a topic's explanation, form, Run and Stop, results, history, code, and the
// embed snippet. It knows no topic by name: everything shown comes from the catalog and the
// reports. A run goes through the run controller (run-controller.js), which decides whether it
// may start, stops it, and says how it ended; this page only shows it.

import { h, replace } from './dom.js';
import { defaultsOf } from './catalog.js';
import { buildForm } from './form.js';
import { explanationView } from './texts.js';
import { queryFor, writeUrl } from './url-state.js';

/**
 * @typedef {import('./types.js').Topic} Topic
 * @typedef {import('./types.js').Values} Values
 * @typedef {import('./embed-api.js').RunEnd} RunEnd
 * @typedef {import('./embed-api.js').RunEvents} RunEvents
 * @typedef {import('./boot.js').Page} Page
 * @typedef {import('./engine-client.js').Engine} Engine
 * @typedef {{results: HTMLElement, history: HTMLElement, runButton: HTMLButtonElement, stopButton: HTMLButtonElement}} TopicView
 */

/** @type {Promise<typeof import('./results.js')> | null} */
let resultsViews = null;
/**
 * While a run goes on, its progress, output and timeline are redrawn at most this often. A redraw
 * at every progress message (ten a second) took about 6 ms of the page's main thread, its
 * compositor and the GPU process each time, about 6% of a core, from the modes being timed:
 * parallel modes, which need every core, lost more to it than the sequential one did.
 */
const LIVE_REDRAW_MS = 1000;
/** The results' views (results, timeline, charts, stepper), loaded once: the page asks once a first run can start. */
export const loadResults = () => (resultsViews ??= import('./results.js'));

/**
 * The topic page of `page`: what the shell (boot.js) and the embed host (embed-host.js) call.
 * What a first run does not need (the prediction box, the exercise builder, the last runs, the
 * scheduler) loads once `firstRunCanStart` settles, out of the first load; each shows then.
 * @param {Page} page
 * @param {Promise<unknown>} [firstRunCanStart]
 */
export function topicPage(page, firstRunCanStart = Promise.resolve()) {
  /** @type {Map<string, Promise<any>>} */
  const loaded = new Map();
  /**
   * @template T
   * @param {string} name @param {() => Promise<T>} load
   * @returns {Promise<T>}
   */
  const later = (name, load) => {
    let module = loaded.get(name);
    if (!module) {
      module = firstRunCanStart.then(load);
      loaded.set(name, module);
      module.catch(() => loaded.delete(name)); // tried again when next asked for (offline, say)
    }
    return module;
  };
  const predictions = () => later('predict', () => import('./predict.js'));
  const histories = () => later('history', () => import('./history.js'));
  // A run uses both: they load on every visit, so the service worker keeps them for offline use.
  Promise.all([predictions(), histories()]).catch(() => {});

  /** The engine: every caller here runs once the page has one. */
  const engine = () => /** @type {Engine} */ (page.runs.engine);
  /** One polite live region for how runs go: results replace their content, which would be read out whole. */
  const announcer = h('div', { class: 'sr-only', id: 'announcer', role: 'status', 'aria-live': 'polite' });
  document.body.append(announcer);

  // Run, Stop and the body's data-running and data-runs follow the run controller.
  page.runs.onChange(({ phase, running, runs: ended }) => {
    const run = /** @type {HTMLButtonElement | null} */ (document.getElementById('run'));
    if (run) run.disabled = phase !== 'idle' || !page.ready;
    const stop = /** @type {HTMLButtonElement | null} */ (document.getElementById('stop'));
    if (stop) stop.disabled = !running;
    if (running) document.body.dataset.running = 'true';
    else delete document.body.dataset.running;
    // Counts finished runs, so tests (and embedding pages) can tell a new result from an old one.
    if (ended) document.body.dataset.runs = String(ended);
  });

  /**
   * @param {Topic} topic
   * @param {Values} rawParams from the URL or the parent page, checked leniently
   */
  async function showTopic(topic, rawParams) {
    page.topic = topic;
    document.title = `${topic.title} · Concurrency Playground`;
    const notice = (/** @type {string} */ text) => h('p', { class: 'notice', role: 'alert', text });
    const notices = h('div', { class: 'notices' }, ...page.display.problems.map(notice));
    const isolation = h('div', { class: 'isolation-notice' }, isolationNotice(topic));

    // Run waits for the engine, and for its part that has this topic (a topic of another part
    // starts that part's engine; see engine-client.js).
    const canRun = page.ready && engine().runs(topic.id);
    const results = h(
      'div',
      { class: 'results', id: 'results' },
      h('p', {
        class: 'muted',
        text: canRun ? 'Press Run to start.' : 'The engine is loading: Run works in a moment.',
      }),
    );
    const history = h('div', { class: 'history-view' });
    const formStatus = h('p', { class: 'form-status', role: 'alert' });
    // The address bar's values until Rust has checked them (below, once the engine is ready).
    let edited = false;
    const form = buildForm(topic, rawParams, (values) => {
      edited = true;
      syncUrl(topic, values);
      validateSoon(values);
    });
    page.form = form;
    let timer = 0;
    // The form may be gone by the time the timer fires or the engine answers (another topic, or
    // this one shown again): a check for a form not shown is not asked (it would switch the engine
    // back to this topic's part) nor applied.
    const shown = () => page.form === form;
    const validateSoon = (/** @type {Values} */ values) => {
      clearTimeout(timer);
      timer = window.setTimeout(async () => {
        const ready = await page.engineReady;
        if (!shown()) return;
        const answer = await ready.check(topic.id, values, false);
        if (!shown()) return;
        replace(formStatus, ...form.setErrors(answer.errors));
        if (answer.ok) engine().prepare(topic.id, answer.params);
      }, 150);
    };

    const runButton = /** @type {HTMLButtonElement} */ (
      h('button', { type: 'submit', class: 'primary', id: 'run', text: 'Run', disabled: !canRun })
    );
    const stopButton = /** @type {HTMLButtonElement} */ (
      h('button', { type: 'button', id: 'stop', text: 'Stop', disabled: true, onclick: () => page.runs.stop() })
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
        { class: 'fields-and-presets', hidden: !page.display.panels.has('params') },
        form.element,
        h('div', { class: 'presets' }, ...presetButtons, resetButton),
      ),
      topic.prompts?.length
        ? inPlaceOf(predictions(), ({ predictionBox }) => shown() && predictionBox(topic, page.display.prompt))
        : null,
      h(
        'div',
        { class: 'actions' },
        runButton,
        stopButton,
        page.embed
          ? null
          : inPlaceOf(
              later('embed-snippet', () => import('./embed-snippet.js')),
              ({ embedButton }) => shown() && embedButton(topic, () => form.values()),
            ),
        page.embed
          ? null
          : inPlaceOf(
              later('exercise', () => import('./exercise-builder.js')),
              ({ exerciseBuilder }) => shown() && exerciseBuilder(topic, () => form.values()),
            ),
      ),
      formStatus,
    );

    /** A run the learner asked for (or autorun); an embedding page hears how it goes. */
    async function runForm(by = 'learner') {
      const release = page.runs.claim(`the run of ${topic.title} started from the form`);
      if (!release) return;
      try {
        await checkAndRun(by);
      } finally {
        release();
      }
    }
    page.runForm = runForm;

    /** @param {string} by */
    async function checkAndRun(by) {
      await form.settled();
      const answer = await engine().check(topic.id, form.values(), false);
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
      if (page.runs.stopAsked) return;
      const events = page.learnerRun?.(by) ?? null;
      const outcome = await execute(topic, answer.params, view, events, by);
      events?.ended(outcome, topic.id);
    }
    /** @type {TopicView} */
    const view = { results, history, runButton, stopButton };
    histories().then(
      ({ historyTable }) => shown() && replace(history, historyTable(topic)),
      () => {}, // the last runs stay unlisted; the topic runs
    );
    page.execute = (params, events) => execute(topic, params, view, events, 'parent');

    const titled = (/** @type {string} */ panel, /** @type {string} */ title, /** @type {Node[]} */ ...content) =>
      h(
        'section',
        { class: 'panel', dataset: { panel }, hidden: !page.display.panels.has(panel) },
        h('h2', { text: title }),
        ...content,
      );
    const code = { rust: page.display.panels.has('code'), python: page.display.panels.has('python') };
    replace(
      page.app,
      h('h1', { text: topic.title }),
      h('p', { class: 'summary', text: topic.summary }),
      notices,
      isolation,
      page.display.panels.has('explanation') ? explanationView(topic) : null,
      h(
        'section',
        { class: 'panel', dataset: { panel: 'params' } },
        h('h2', { text: page.display.panels.has('params') ? 'Parameters' : 'Run' }),
        controls,
      ),
      titled('results', 'Results', results),
      schedulerPanel(topic),
      titled('history', 'Last runs', history),
      code.rust || code.python
        ? titled(
            code.rust ? 'code' : 'python',
            'Code',
            inPlaceOf(
              later('code', () => import('./code-view.js')),
              ({ codeView }) => shown() && codeView(topic, code),
            ),
          )
        : null,
    );

    const ready = await page.engineReady;
    if (!shown()) return; // another topic (or this one again) is shown now: its own check is asked
    const defaults = defaultsOf(topic);
    const checked = await ready.check(topic.id, { ...defaults, ...rawParams }, true);
    if (!shown()) return;
    // A value Rust ignored comes back as its own default, sized for 2 cores: the page's follows this machine.
    for (const { field } of checked.errors) if (Object.hasOwn(defaults, field)) checked.params[field] = defaults[field];
    if (page.ready && !canRun) {
      engineIsReady();
      // Run works after a switch to a topic of another part (the benchmark reads this mark).
      performance.mark('playground-switched', { detail: topic.id });
    }
    replace(
      notices,
      ...page.display.problems.map(notice),
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
    engine().prepare(topic.id, checked.params);
  }

  /**
   * "Be the scheduler" for a topic with a scheduled lesson (scheduler.js, loaded when shown).
   * @param {Topic} topic
   */
  function schedulerPanel(topic) {
    const goal = Object.hasOwn(page.catalog.lessons, topic.id) ? page.catalog.lessons[topic.id] : undefined;
    if (!goal || !page.display.panels.has('results')) return null;
    const body = h('div', { class: 'scheduler-mount' }, h('p', { class: 'muted', text: 'Loading the scheduler…' }));
    // Not once its topic has gone: its first question would switch the engine back to its part.
    later('scheduler', () => import('./scheduler.js')).then(
      ({ mountScheduler }) => page.topic === topic && mountScheduler(body, topic.id, goal, page.engineReady),
    );
    return h(
      'section',
      { class: 'panel', dataset: { panel: 'schedule' } },
      h('h2', { text: 'Be the scheduler' }),
      body,
    );
  }

  /**
   * A hidden placeholder, replaced by what `make` returns from the module once it has loaded
   * (nothing when it returns null or false: a topic left meanwhile).
   * @template T
   * @param {Promise<T>} module @param {(module: T) => Node | null | false} make
   */
  function inPlaceOf(module, make) {
    const spot = h('span', { hidden: true });
    module.then(
      (m) => {
        const made = make(m);
        if (made) spot.replaceWith(made);
        else spot.remove();
      },
      (error) => {
        console.warn('a part of the topic page could not load:', error);
        spot.remove();
      },
    );
    return spot;
  }

  /** Once the engine can run: Run works, and the topic shown says so. */
  function engineIsReady() {
    const run = /** @type {HTMLButtonElement | null} */ (document.getElementById('run'));
    if (run) run.disabled = page.runs.phase !== 'idle';
    const waiting = document.querySelector('#results > p.muted');
    if (waiting && !page.runs.running) waiting.textContent = 'Press Run to start.';
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
    if (page.caps.threads || !threadModes.length) return null;
    const none = threadModes.length === topic.modes.length;
    const what = none
      ? 'Every mode of this topic uses them, so nothing can run here. '
      : `${threadModes.map((m) => m.label).join(', ')} will show as unavailable; the other modes run normally. `;
    return h(
      'div',
      { class: 'notice isolation', role: 'note' },
      h('strong', { text: none ? 'This topic cannot run here. ' : 'Threads are unavailable here. ' }),
      `${threadsOffReason()} ${what}`,
      ...fullPageLink(topic, page.form?.values?.() ?? {}),
    );
  }

  /**
   * A link to the same topic in a full page, where a full page would have threads (not when this
   * browser lacks shared memory whatever the page does).
   * @param {Topic} topic
   * @param {Values} values
   */
  function fullPageLink(topic, values) {
    if (page.caps.isolated) return [];
    return [
      h('a', {
        href: fullPageUrl(topic, values),
        target: '_blank',
        rel: 'noopener',
        text: 'Open this topic in a full page',
      }),
      ', where it page.runs.',
    ];
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
    /** @type {import('./types.js').Drained} */
    const live = { log: [], spans: [], progress: null };
    let frame = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} the next redraw, once one is due */
    let redraw;
    let drawnAt = 0;
    const { renderLive } = await loadResults();
    renderLive(view.results, live, topic.modes);
    announce(`Running ${topic.title}…`);
    events?.started({ topic: topic.id, params, modes: topic.modes.map((m) => m.id) });
    // Without its module (offline, never loaded) the run goes on without the prediction.
    const predict = await predictions().catch(() => null);
    predict?.commitPrediction(topic, params);
    return page.runs.run({
      topic: topic.id,
      params,
      by,
      // The service worker's wasm compiles before the run's clock starts, not beside its first mode.
      before: import('./service-worker.js').then(({ warmServiceWorker }) => warmServiceWorker({ timeoutMs: 3000 })),
      onProgress: (drained) => {
        live.log.push(...drained.log);
        live.spans.push(...drained.spans);
        live.progress = drained.progress;
        events?.progress(live);
        // At most one redraw every LIVE_REDRAW_MS: each costs the page's threads (and the
        // compositor's) a few milliseconds, taken from the cores the timed modes run on.
        redraw ??= setTimeout(
          () => {
            redraw = undefined;
            drawnAt = performance.now();
            cancelAnimationFrame(frame);
            frame = requestAnimationFrame(() => renderLive(view.results, live, topic.modes));
          },
          Math.max(0, drawnAt + LIVE_REDRAW_MS - performance.now()),
        );
      },
      show: async (ended) => {
        clearTimeout(redraw);
        cancelAnimationFrame(frame);
        try {
          const shown = await show(ended, view, topic, params);
          predict?.judgePrediction(view.results, shown.report ?? null);
          announce(endingText(shown));
          return shown;
        } catch (error) {
          console.error('could not show the run', error);
          replace(
            view.results,
            h('p', { class: 'status failed', text: `The run ended but could not be shown: ${error}` }),
          );
          announce(`The run ended but could not be shown: ${error}`);
          return { message: String(error) };
        }
      },
    });
  }

  /**
   * Shows how a run ended: its report, why it was refused or could not run here, or why the engine was restarted.
   * @param {import('./run-controller.js').Ended} outcome
   * @param {TopicView} view
   * @param {Topic} topic
   * @param {Values} params
   * @returns {Promise<RunEnd>} once everything is shown
   */
  async function show(outcome, view, topic, params) {
    if (outcome.outcome === 'unavailable') {
      const fullPage = page.caps.isolated ? undefined : fullPageUrl(topic, params);
      replace(
        view.results,
        h('p', { class: 'status failed', text: `${outcome.message} ${threadsOffReason()}` }),
        h('p', {}, ...fullPageLink(topic, params)),
      );
      return { message: outcome.message, fullPage };
    }
    if (outcome.outcome === 'finished') {
      const drawn = (await loadResults()).renderReport(view.results, outcome.report, topic.modes);
      const history = await histories().catch(() => null);
      history?.remember(outcome.report);
      if (history) replace(view.history, history.historyTable(topic));
      await drawn;
      return { report: outcome.report };
    }
    if (outcome.outcome === 'rejected') {
      // Field messages go next to the fields of this run's topic, if its form is still shown.
      const unplaced =
        page.topic === topic
          ? shownForm().setErrors(outcome.errors ?? [])
          : (outcome.errors ?? []).map((e) => e.message);
      replace(view.results, h('p', { class: 'status failed', text: [outcome.message, ...unplaced].join(' ') }));
      return { message: outcome.message, errors: outcome.errors };
    }
    if (outcome.outcome === 'unsent') {
      replace(view.results, h('p', { class: 'status stopped', text: outcome.message }));
      return { stopped: true, message: outcome.message };
    }
    replace(
      view.results,
      h('p', { class: 'status failed', text: outcome.message }),
      outcome.note ? h('p', { class: 'muted', text: outcome.note }) : null,
    );
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
  function endingText(outcome) {
    const report = outcome.report;
    if (!report) return outcome.message ?? 'The run did not finish.';
    const status = document.querySelector('#results .status')?.textContent ?? report.status;
    const passed = report.checks.filter((c) => c.ok).length;
    return report.checks.length ? `${status} ${passed} of ${report.checks.length} checks passed.` : status;
  }

  /** Why threads are off here, in a sentence (the badge's tooltip, the embed's capabilities). */
  function threadsOffReason() {
    if (page.caps.fallback) return page.caps.fallback;
    if (!page.caps.isolated) {
      return window.parent === window
        ? 'This page is not cross-origin isolated: its server sends no Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers (the service worker adds them from the next load on, where it can).'
        : 'This embed is not cross-origin isolated: the page around it is not isolated, or the iframe lacks allow="cross-origin-isolated", and this browser does not isolate the embed by itself (Document-Isolation-Policy).';
    }
    return 'This page is cross-origin isolated, but this browser does not share WebAssembly memory with workers (WebKit without shared memory), so the playground runs its plain build and a full page would not help.';
  }

  /** The form of the topic shown: there is one once a topic is shown, which every caller waits for. */
  function shownForm() {
    if (!page.form) throw new Error('no topic is shown yet');
    return page.form;
  }

  return { showTopic, engineIsReady, threadsOffReason, syncUrl, shownForm };
}
