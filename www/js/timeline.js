// The timeline: one row per lane (thread, worker, task), grouped by mode, all modes on the same
// time scale so a faster mode is visibly shorter. Each kind of span has its own look; a table
// version is always available for screen readers and exact numbers.

import { h, ms, svg } from './dom.js';

const LANE_HEIGHT = 18;
const LABEL_WIDTH = 110;
const MAX_LANES = 40;
const MAX_TABLE_ROWS = 400;

export const KINDS = {
  run: 'running',
  wait: 'blocked / waiting',
  io: 'sleeping / I/O',
  spawn: 'starting',
  copy: 'copying a message',
};

/**
 * @param {any[]} spans {mode, lane, label, kind, start, end}
 * @param {any[]} modes mode rows (for labels and order)
 * @param {number} width pixels
 */
export function renderTimeline(spans, modes, width) {
  if (!spans.length) return h('p', { class: 'muted', text: 'No spans recorded yet.' });
  const groups = groupByMode(spans, modes);
  const longest = Math.max(...groups.map((g) => g.end - g.start), 0.001);
  const plotWidth = Math.max(width - LABEL_WIDTH - 10, 100);
  const scale = plotWidth / longest;
  const blocks = groups.map((group) => modeBlock(group, scale, plotWidth));
  return h('div', { class: 'timeline' }, legend(), ...blocks);
}

function groupByMode(spans, modes) {
  const byMode = new Map();
  for (const span of spans) {
    if (!byMode.has(span.mode)) byMode.set(span.mode, []);
    byMode.get(span.mode).push(span);
  }
  const order = modes.map((m) => m.id);
  return [...byMode.entries()]
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
    .map(([mode, list]) => {
      const lanes = [...new Set(list.map((s) => s.lane))].sort(naturally);
      return {
        mode,
        label: modeLabel(modes, mode),
        spans: list,
        lanes,
        start: Math.min(...list.map((s) => s.start)),
        end: Math.max(...list.map((s) => s.end)),
      };
    });
}

/** A mode's label; spans recorded outside every mode are the run's own preparation. */
function modeLabel(modes, id) {
  if (!id) return 'Preparation (not timed as a mode)';
  return modes.find((m) => m.id === id)?.label ?? id;
}

/** Sorts "thread 2" before "thread 10". */
function naturally(a, b) {
  return a.localeCompare(b, undefined, { numeric: true });
}

function modeBlock(group, scale, plotWidth) {
  const shown = group.lanes.slice(0, MAX_LANES);
  const height = shown.length * LANE_HEIGHT + 22;
  const chart = svg('svg', {
    class: 'timeline-chart',
    width: LABEL_WIDTH + plotWidth + 10,
    height,
    role: 'img',
    'aria-label': `Timeline of ${group.label}: ${group.lanes.length} lanes over ${ms(group.end - group.start)}`,
  });
  shown.forEach((lane, row) => {
    const y = row * LANE_HEIGHT;
    chart.append(svg('text', { x: LABEL_WIDTH - 6, y: y + LANE_HEIGHT - 5, class: 'lane-label', 'text-anchor': 'end' }, lane));
    chart.append(svg('line', { x1: LABEL_WIDTH, x2: LABEL_WIDTH + plotWidth, y1: y + LANE_HEIGHT - 0.5, y2: y + LANE_HEIGHT - 0.5, class: 'lane-rule' }));
  });
  for (const span of group.spans) {
    const row = shown.indexOf(span.lane);
    if (row < 0) continue;
    const x = LABEL_WIDTH + (span.start - group.start) * scale;
    const w = Math.max((span.end - span.start) * scale, 1);
    const rect = svg('rect', { x, y: row * LANE_HEIGHT + 2, width: w, height: LANE_HEIGHT - 5, class: `span span-${span.kind}`, rx: 2 });
    rect.append(svg('title', {}, `${span.lane}: ${span.label} (${KINDS[span.kind] ?? span.kind}) ${ms(span.start)} → ${ms(span.end)}, ${ms(span.end - span.start)}`));
    chart.append(rect);
  }
  // Axis: ticks at round numbers of milliseconds.
  const axisY = shown.length * LANE_HEIGHT + 4;
  const total = plotWidth / scale;
  const step = niceStep(total / 6);
  for (let t = 0; t <= total + 1e-9; t += step) {
    const x = LABEL_WIDTH + t * scale;
    chart.append(svg('line', { x1: x, x2: x, y1: axisY, y2: axisY + 4, class: 'tick' }));
    chart.append(svg('text', { x, y: axisY + 15, class: 'tick-label', 'text-anchor': 'middle' }, ms(t)));
  }
  const more = group.lanes.length - shown.length;
  return h(
    'figure',
    { class: 'timeline-mode' },
    h('figcaption', {}, h('strong', { text: group.label }), ` — ${group.lanes.length} lane${group.lanes.length === 1 ? '' : 's'}, ${ms(group.end - group.start)}`),
    chart,
    more > 0 ? h('p', { class: 'muted', text: `+${more} more lanes (all are in the table below)` }) : null,
  );
}

function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
}

function legend() {
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Legend' },
    ...Object.entries(KINDS).map(([kind, text]) =>
      h('li', {}, svg('svg', { width: 14, height: 10, 'aria-hidden': 'true' }, svg('rect', { width: 14, height: 10, class: `span span-${kind}` })), text),
    ),
  );
}

/** The same spans as a table: the text alternative to the chart. */
export function timelineTable(spans, modes) {
  const rows = spans.slice(0, MAX_TABLE_ROWS).map((s) =>
    h(
      'tr',
      {},
      h('td', { text: modeLabel(modes, s.mode) }),
      h('td', { text: s.lane }),
      h('td', { text: s.label }),
      h('td', { text: KINDS[s.kind] ?? s.kind }),
      h('td', { class: 'num', text: ms(s.start) }),
      h('td', { class: 'num', text: ms(s.end) }),
      h('td', { class: 'num', text: ms(s.end - s.start) }),
    ),
  );
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data' },
      h('thead', {}, h('tr', {}, ...['Mode', 'Lane', 'What', 'Kind', 'Start', 'End', 'Duration'].map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', {}, ...rows),
    ),
    spans.length > MAX_TABLE_ROWS ? h('p', { class: 'muted', text: `First ${MAX_TABLE_ROWS} of ${spans.length} spans.` }) : null,
  );
}
