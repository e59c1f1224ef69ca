// What a run shows: status, self-checks, timings with speedup bars, charts, timeline, output,
// tables, downloads and images. All of it is generic: topics describe themselves in the report.

import { renderCharts } from './charts.js';
import { h, lazyDetails, ms, pause, replace, scrollBox, useStylesheet } from './dom.js';
import { steppersView } from './stepper.js';
import { TimelineView, pagedTable, timelineTable } from './timeline.js';

useStylesheet(new URL('../css/results.css', import.meta.url));

/**
 * @typedef {import('./types.js').Report} Report
 * @typedef {import('./types.js').Mode} Mode
 * @typedef {import('./types.js').ModeStatus} ModeStatus
 * @typedef {import('./types.js').LogLine} LogLine
 * @typedef {import('./types.js').Drained} Live what the run in progress has recorded so far
 */

/** The log shows its first and last lines; the ones between come a page at a time on request. */
const LOG_HEAD = 200;
const LOG_TAIL = 200;
const LOG_PAGE = 1000;

/** @type {Record<ModeStatus, string>} */
const STATUS_TEXT = {
  ok: 'not compared', // a timed mode without a speedup: a simulation's time, or a baseline of 0 ms
  unavailable: 'unavailable here',
  failed: 'failed',
  stopped: 'stopped',
};

/**
 * The view of the run in progress in each results container: updated in place (a frame that
 * rebuilt it all would lay out and repaint the page below it each time); the finished run's
 * report continues its spans, so its timeline groups them once.
 * @type {WeakMap<Element, {live: Live, timeline: TimelineView, update: () => void}>}
 */
const liveViews = new WeakMap();

/**
 * Shows a finished (or stopped) run: the status and timings at once, then the other sections, each
 * in a task of its own (a race's timeline and stepper together kept the page busy for 50-70 ms).
 * Resolves once everything is shown.
 * @param {HTMLElement} container
 * @param {Report} report
 * @param {Mode[]} catalogModes the topic's modes, for a report that has none
 */
export async function renderReport(container, report, catalogModes) {
  const width = container.clientWidth || 800;
  const modes = report.modes.length ? report.modes : catalogModes;
  const timeline = liveViews.get(container)?.timeline ?? new TimelineView(width);
  liveViews.delete(container);
  /** @type {(() => Node | null)[]} */
  const later = [
    () => section('Charts', renderCharts(report.series, width - 20), report.series.length > 0),
    () =>
      section(
        'Timeline',
        [timeline.show(report.spans, modes), spansDetails(report.spans, modes)],
        true,
        'timeline-section',
      ),
    () =>
      section(
        'Step through what happened',
        steppersView(report.steppers ?? [], modes, timeline),
        (report.steppers ?? []).length > 0,
        'stepper-section',
      ),
    () => section('Output', [logView(report.log)], true, 'output-section'),
    ...report.tables.map((t) => () => section(t.title, [dataTable(t.title, t.columns, t.rows)], true, 'result-table')),
    () => section('See also', [links(report.links ?? [])], (report.links ?? []).length > 0, 'links'),
    () => section('Files', report.files.map(download), report.files.length > 0),
    () => section('Images', report.images.map(image), report.images.length > 0, 'images'),
  ];
  replace(container, statusLine(report), checks(report.checks), timingTable(report));
  for (const part of later) {
    await pause();
    if (!container.isConnected) return; // another topic is shown now
    const shown = part();
    if (shown) container.append(shown);
  }
}

/**
 * Shows a run in progress: progress bar, spans so far, the last lines of the log.
 * @param {HTMLElement} container
 * @param {Live} live
 * @param {Mode[]} catalogModes
 */
export function renderLive(container, live, catalogModes) {
  let view = liveViews.get(container);
  if (view?.live !== live) {
    view = liveView(container, live, catalogModes);
    liveViews.set(container, view);
  }
  view.update();
}

/** @param {HTMLElement} container @param {Live} live @param {Mode[]} modes */
function liveView(container, live, modes) {
  const timeline = new TimelineView(container.clientWidth || 800);
  const bar = /** @type {HTMLProgressElement} */ (h('progress', { max: 1, value: 0, 'aria-label': 'Progress' }));
  const label = document.createTextNode('');
  const timelineSection = /** @type {HTMLElement} */ (
    section('Timeline so far', [timeline.element], true, 'timeline-section')
  );
  timelineSection.hidden = true;
  const log = h('pre', { class: 'log', tabindex: '0', 'aria-label': 'Output' }, '(nothing printed)');
  let logged = 0;
  replace(
    container,
    h('p', { class: 'status running' }, 'Running… ', bar, label),
    timelineSection,
    section('Output so far', [log], true, 'output-section'),
  );
  const update = () => {
    const { progress } = live;
    bar.max = progress?.total || 1;
    bar.value = progress?.done ?? 0;
    label.textContent = progress ? ` ${progress.label}: ${percent(progress)}` : '';
    if (live.spans.length) {
      timelineSection.hidden = false;
      timeline.update(live.spans, modes);
    }
    // The log's newest lines, LOG_TAIL at most, added as they come.
    if (live.log.length > logged) {
      if (logged === 0) log.replaceChildren();
      log.append(...live.log.slice(Math.max(logged, live.log.length - LOG_TAIL)).map(logLine));
      logged = live.log.length;
      while (log.childElementCount > LOG_TAIL) log.firstElementChild?.remove();
    }
  };
  return { live, timeline, update };
}

/** @param {import('./types.js').Progress} progress */
function percent(progress) {
  return progress.total > 0 ? `${Math.min(100, (100 * progress.done) / progress.total).toFixed(0)}%` : '';
}

/** @param {Report} report */
function statusLine(report) {
  const text = {
    ok: `Finished in ${ms(report.wall_ms)}.`,
    stopped: `Stopped after ${ms(report.wall_ms)}. What ran until then is shown below.`,
    failed: `Failed: ${report.error}`,
  }[report.status];
  return h('p', { class: `status ${report.status}`, text });
}

/**
 * Links to other topics: [{topic, text}]; the topic's page is `?topic=ID`.
 * @param {import('./types.js').Link[]} list
 */
function links(list) {
  // In an embed a link opens the full page in a new tab: followed inside the iframe it would
  // lose the embed's display options and its origin= restriction.
  const embedded = document.body.dataset.view === 'embed';
  const link = (/** @type {string} */ topic) =>
    embedded
      ? h('a', {
          href: new URL(`index.html?topic=${encodeURIComponent(topic)}`, window.location.href).href,
          target: '_blank',
          rel: 'noopener',
          text: topic,
        })
      : h('a', { href: `?topic=${encodeURIComponent(topic)}`, text: topic });
  return h('ul', { class: 'topic-links' }, ...list.map((l) => h('li', {}, link(l.topic), ` ${l.text}`)));
}

/** @param {import('./types.js').Check[]} list */
function checks(list) {
  if (!list.length) return null;
  return h(
    'ul',
    { class: 'checks', 'aria-label': 'Checks' },
    ...list.map((c) =>
      h(
        'li',
        { class: c.ok ? 'pass' : 'fail' },
        h('span', { class: 'mark', 'aria-hidden': 'true', text: c.ok ? '✓' : '✗' }),
        h('span', { class: 'sr-only', text: c.ok ? 'passed: ' : 'failed: ' }),
        c.text,
      ),
    ),
  );
}

/** @param {Report} report */
function timingTable(report) {
  const best = Math.max(1, ...report.modes.map((m) => m.speedup ?? 0));
  const baseline = report.modes.find((m) => m.id === report.baseline);
  const rows = report.modes.map((m) =>
    h(
      'tr',
      { class: `mode-${m.status}`, dataset: { mode: m.id } },
      h('th', { scope: 'row', text: m.label }),
      h('td', { class: 'num wall', text: m.wall_ms === null ? '—' : ms(m.wall_ms) }),
      h('td', { class: 'speedup' }, m.speedup ? speedupBar(m.speedup, best) : STATUS_TEXT[m.status]),
      h('td', { class: 'num', text: m.lanes || '' }),
      h('td', { class: 'result', text: m.result ?? '' }),
      h('td', { class: 'note', text: m.note ?? '' }),
    ),
  );
  return scrollBox(
    'Timings',
    h(
      'table',
      { class: 'data timings' },
      h('caption', { text: baseline ? `Speedup relative to “${baseline.label}”` : 'Timings' }),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Mode', 'Wall time', 'Speedup', 'Lanes', 'Result', 'Note'].map((c) => h('th', { scope: 'col', text: c })),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}

/** @param {number} value @param {number} best the largest speedup (the bars' scale) */
function speedupBar(value, best) {
  const bar = h('span', { class: 'bar' });
  bar.style.width = `${Math.max(2, (100 * value) / best)}%`;
  return h(
    'span',
    { class: 'speedup-cell' },
    h('span', { class: 'bar-track' }, bar),
    h('span', { class: 'speedup-value', text: `${value.toFixed(2)}×` }),
  );
}

/**
 * @param {string} title
 * @param {(Node | null)[]} children
 * @param {boolean} show
 */
function section(title, children, show, className = '') {
  if (!show) return null;
  return h('section', { class: `result-section ${className}` }, h('h3', { text: title }), ...children);
}

/**
 * The table is built when first opened: most readers never open it.
 * @param {import('./types.js').Span[]} spans
 * @param {import('./timeline.js').ModeName[]} modes
 */
function spansDetails(spans, modes) {
  return lazyDetails('spans-table', `Timeline as a table (${spans.length} spans)`, () => timelineTable(spans, modes));
}

/** @param {LogLine} l */
function logLine(l) {
  return h(
    'div',
    { class: 'log-line' },
    h('span', { class: 'log-time', text: ms(l.t).padStart(9) }),
    h('span', { class: 'log-lane', text: ` [${l.lane}] ` }),
    l.text,
  );
}

/** @param {LogLine[]} lines */
function logView(lines) {
  const pre = h('pre', { class: 'log', tabindex: '0', 'aria-label': 'Output' });
  const line = logLine;
  if (!lines.length) pre.append('(nothing printed)');
  if (lines.length <= LOG_HEAD + LOG_TAIL) {
    pre.append(...lines.map(line));
    return pre;
  }
  // A long log: the start and the end, and between them a button for the lines left out.
  let next = LOG_HEAD;
  const end = lines.length - LOG_TAIL;
  const gap = h('div', { class: 'log-gap' });
  const more = h('button', {
    type: 'button',
    class: 'show-more',
    onclick: () => {
      const until = Math.min(end, next + LOG_PAGE);
      gap.before(...lines.slice(next, until).map(line));
      next = until;
      label();
    },
  });
  const label = () => {
    more.textContent = `Show ${Math.min(LOG_PAGE, end - next).toLocaleString('en-US')} of the ${(end - next).toLocaleString('en-US')} lines left out here`;
    gap.hidden = next >= end;
  };
  gap.append(more);
  label();
  pre.append(...lines.slice(0, LOG_HEAD).map(line), gap, ...lines.slice(end).map(line));
  return pre;
}

/**
 * A topic's table (a page of rows at a time, for tables of any length).
 * @param {string} title
 * @param {string[]} columns
 * @param {string[][]} rows
 */
export function dataTable(title, columns, rows) {
  return pagedTable(columns, rows.length, (i) => rows[i], { label: title });
}

/** @param {import('./types.js').FileOut} file */
function download(file) {
  const url = URL.createObjectURL(new Blob([file.text], { type: file.mime }));
  return h(
    'p',
    {},
    h('a', { href: url, download: file.name, class: 'button', text: `Download ${file.name}` }),
    ` (${file.text.length} bytes)`,
  );
}

/** @param {import('./types.js').ImageOut} img */
function image(img) {
  const canvas = /** @type {HTMLCanvasElement} */ (
    h('canvas', { width: img.width, height: img.height, role: 'img', 'aria-label': img.label })
  );
  canvas.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(img.rgba), img.width, img.height), 0, 0);
  return h('figure', { class: 'thumb' }, canvas, h('figcaption', { text: img.label }));
}
