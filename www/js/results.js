// What a run shows: status, self-checks, timings with speedup bars, charts, timeline, output,
// tables, downloads and images. All of it is generic: topics describe themselves in the report.

import { renderCharts } from './charts.js';
import { h, ms, replace } from './dom.js';
import { renderTimeline, timelineTable } from './timeline.js';

const STATUS_TEXT = {
  ok: 'ok',
  unavailable: 'unavailable here',
  failed: 'failed',
  stopped: 'stopped',
};

/** Shows a finished (or stopped) run. */
export function renderReport(container, report, catalogModes) {
  const width = container.clientWidth || 800;
  const modes = report.modes.length ? report.modes : catalogModes;
  replace(
    container,
    statusLine(report),
    checks(report.checks),
    timingTable(report),
    section('Charts', renderCharts(report.series, width - 20), report.series.length > 0),
    section('Timeline', [renderTimeline(report.spans, modes, width), spansDetails(report.spans, modes)], true, 'timeline-section'),
    section('Output', [logView(report.log)], true, 'output-section'),
    ...report.tables.map((t) => section(t.title, [dataTable(t.columns, t.rows)], true, 'result-table')),
    section('See also', [links(report.links ?? [])], (report.links ?? []).length > 0, 'links'),
    section('Files', report.files.map(download), report.files.length > 0),
    section('Images', report.images.map(image), report.images.length > 0, 'images'),
  );
}

/** Shows a run in progress: progress bar, spans so far, the log so far. */
export function renderLive(container, live, catalogModes) {
  const width = container.clientWidth || 800;
  const { progress } = live;
  const bar = h('progress', { max: progress?.total || 1, value: progress?.done ?? 0, 'aria-label': 'Progress' });
  replace(
    container,
    h('p', { class: 'status running', role: 'status' }, 'Running… ', bar, progress ? ` ${progress.label}: ${percent(progress)}` : ''),
    section('Timeline so far', [renderTimeline(live.spans, catalogModes, width)], live.spans.length > 0, 'timeline-section'),
    section('Output so far', [logView(live.log)], true, 'output-section'),
  );
}

function percent(progress) {
  return progress.total > 0 ? `${Math.min(100, (100 * progress.done) / progress.total).toFixed(0)}%` : '';
}

function statusLine(report) {
  const text = {
    ok: `Finished in ${ms(report.wall_ms)}.`,
    stopped: `Stopped after ${ms(report.wall_ms)}. What ran until then is shown below.`,
    failed: `Failed: ${report.error}`,
  }[report.status];
  return h('p', { class: `status ${report.status}`, role: 'status', text });
}

/** Links to other topics: [{topic, text}]; the topic's page is `?topic=ID`. */
function links(list) {
  return h('ul', { class: 'topic-links' }, ...list.map((l) => h('li', {}, h('a', { href: `?topic=${encodeURIComponent(l.topic)}`, text: l.topic }), ` ${l.text}`)));
}

function checks(list) {
  if (!list.length) return null;
  return h(
    'ul',
    { class: 'checks', 'aria-label': 'Checks' },
    ...list.map((c) => h('li', { class: c.ok ? 'pass' : 'fail' }, h('span', { class: 'mark', 'aria-hidden': 'true', text: c.ok ? '✓' : '✗' }), h('span', { class: 'sr-only', text: c.ok ? 'passed: ' : 'failed: ' }), c.text)),
  );
}

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
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data timings' },
      h('caption', { text: baseline ? `Speedup relative to “${baseline.label}”` : 'Timings' }),
      h('thead', {}, h('tr', {}, ...['Mode', 'Wall time', 'Speedup', 'Lanes', 'Result', 'Note'].map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', {}, ...rows),
    ),
  );
}

function speedupBar(value, best) {
  const bar = h('span', { class: 'bar' });
  bar.style.width = `${Math.max(2, (100 * value) / best)}%`;
  return h('span', { class: 'speedup-cell' }, h('span', { class: 'bar-track' }, bar), h('span', { class: 'speedup-value', text: `${value.toFixed(2)}×` }));
}

function section(title, children, show, className = '') {
  if (!show) return null;
  return h('section', { class: `result-section ${className}` }, h('h3', { text: title }), ...children);
}

function spansDetails(spans, modes) {
  return h('details', { class: 'spans-table' }, h('summary', { text: `Timeline as a table (${spans.length} spans)` }), timelineTable(spans, modes));
}

function logView(lines) {
  const pre = h('pre', { class: 'log', tabindex: '0', 'aria-label': 'Output' });
  pre.append(...lines.map((l) => h('div', { class: 'log-line' }, h('span', { class: 'log-time', text: ms(l.t).padStart(9) }), h('span', { class: 'log-lane', text: ` [${l.lane}] ` }), l.text)));
  if (!lines.length) pre.append('(nothing printed)');
  return pre;
}

export function dataTable(columns, rows) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data' },
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((cell) => h('td', { text: cell }))))),
    ),
  );
}

function download(file) {
  const url = URL.createObjectURL(new Blob([file.text], { type: file.mime }));
  return h('p', {}, h('a', { href: url, download: file.name, class: 'button', text: `Download ${file.name}` }), ` (${file.text.length} bytes)`);
}

function image(img) {
  const canvas = /** @type {HTMLCanvasElement} */ (h('canvas', { width: img.width, height: img.height, role: 'img', 'aria-label': img.label }));
  canvas.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(img.rgba), img.width, img.height), 0, 0);
  return h('figure', { class: 'thumb' }, canvas, h('figcaption', { text: img.label }));
}
