// Line charts for a run's series (sweeps, queue lengths, heartbeat delays), drawn by uPlot.

import { cssRgb, h, lazyDetails, useStylesheet } from './dom.js';
import { pagedTable } from './timeline.js';

useStylesheet(new URL('../vendor/uPlot.min.css', import.meta.url));

/**
 * A series' points: [x, y] pairs, or x0, y0, x1, y1, ... in a Float64Array (as the engine sends
 * them: a typed array is transferred, where 100,000 pairs would take the page ~100 ms to copy).
 * @typedef {[number, number][] | Float64Array} Points
 */

/** @typedef {{chart: string, name: string, x: string, y: string, points: Points}} ChartSeries a report's `Series`, or one with pairs */

/**
 * uPlot loads with the first chart: most topics never draw one.
 * @type {Promise<typeof import('../vendor/uPlot.esm.js')> | null}
 */
let uPlotModule = null;
const loadUPlot = () => (uPlotModule ??= import('../vendor/uPlot.esm.js').then((m) => m.default));

const COLORS = ['#2563eb', '#9ca3af', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d'];

/**
 * One chart per distinct `chart` name, with every series of that name on it.
 * @param {ChartSeries[]} series
 * @param {number} width
 */
export function renderCharts(series, width) {
  /** @type {Map<string, ChartSeries[]>} */
  const charts = new Map();
  for (const s of series) {
    const list = charts.get(s.chart);
    if (list) list.push(s);
    else charts.set(s.chart, [s]);
  }
  return [...charts.entries()].map(([name, list]) => chart(name, list, width));
}

/**
 * @param {string} name
 * @param {ChartSeries[]} list the series drawn on this chart (at least one)
 * @param {number} width
 */
function chart(name, list, width) {
  const figure = h('figure', { class: 'chart' }, h('figcaption', { text: `${list[0].y} by ${list[0].x}` }));
  const columns = list.map((s) => thin(s.points, Math.max(width, 280)));
  // uPlot draws axes on its canvas, black unless told: the theme's ink and lines.
  const [ink, line] = ['--ink', '--line'].map(cssRgb);
  const axis = (/** @type {string} */ label) => ({
    label,
    stroke: ink,
    grid: { stroke: line },
    ticks: { stroke: line },
  });
  const options = {
    width: Math.max(width, 280),
    height: 240,
    scales: { x: { time: false } },
    axes: [axis(list[0].x), axis(list[0].y)],
    series: [
      { label: list[0].x },
      ...list.map((s, i) => ({
        label: s.name,
        stroke: COLORS[i % COLORS.length],
        width: 2,
        spanGaps: true,
        points: { show: size(s.points) <= 40 },
        dash: s.name === 'ideal' ? [6, 4] : undefined,
      })),
    ],
  };
  const holder = h('div', {
    class: 'chart-canvas',
    dataset: { chart: name },
    role: 'img',
    'aria-label': `${list[0].y} by ${list[0].x}: ${list.map((s) => s.name).join(', ')}`,
  });
  // The points as a table: the chart's text alternative (and its exact numbers).
  const points = list.reduce((n, s) => n + size(s.points), 0);
  figure.append(
    holder,
    lazyDetails('chart-table', `Chart as a table (${points.toLocaleString('en-US')} points)`, () =>
      pointsTable(list, points),
    ),
  );
  // The table above still has every number if the chart cannot be drawn (uPlot reads the
  // browser's language at load, and throws on one Intl does not know, as WebKitGTK's "C").
  loadUPlot()
    .then((uPlot) => new uPlot(options, uPlot.join(columns), holder))
    .catch((error) =>
      holder.replaceChildren(
        h('p', {
          class: 'muted',
          text: `The chart could not be drawn here (${error?.message ?? error}); the table below has its numbers.`,
        }),
      ),
    );
  return figure;
}

/** @param {Points} points */
const size = (points) => (points instanceof Float64Array ? points.length / 2 : points.length);

/** @param {Points} points @param {number} i @returns {number[]} the i-th point's [x, y] */
const point = (points, i) => (points instanceof Float64Array ? [points[2 * i], points[2 * i + 1]] : points[i]);

const number = (/** @type {number} */ v) => v.toLocaleString('en-US', { maximumFractionDigits: 3 });

/**
 * Every point of a chart's series, a page of rows at a time (row i found from the series' sizes).
 * @param {ChartSeries[]} list
 * @param {number} count
 */
function pointsTable(list, count) {
  const columns = ['Series', list[0].x, list[0].y];
  return pagedTable(
    columns,
    count,
    (row) => {
      let i = row;
      let k = 0;
      while (i >= size(list[k].points)) i -= size(list[k++].points);
      return [list[k].name, ...point(list[k].points, i).map(number)];
    },
    { numeric: [1, 2], noun: 'points', label: `${list[0].y} by ${list[0].x}` },
  );
}

/**
 * A series' columns [xs, ys], with at most about 4 points per pixel: past that, each of `2 *
 * width` slices of the x range keeps its lowest and highest point (the line looks the same, and
 * drawing and joining stay fast for series of any length). Thinned points come out sorted by x.
 * @param {Points} points
 * @param {number} width
 * @returns {[number[], number[]]}
 */
export function thin(points, width) {
  const n = size(points);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    [xs[i], ys[i]] = point(points, i);
  }
  const slices = 2 * Math.ceil(width);
  if (n <= 2 * slices) return [Array.from(xs), Array.from(ys)];
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const span = hi - lo || 1;
  const low = new Int32Array(slices).fill(-1);
  const high = new Int32Array(slices).fill(-1);
  for (let i = 0; i < n; i++) {
    const k = Math.min(slices - 1, Math.floor(((xs[i] - lo) / span) * slices));
    if (low[k] < 0 || ys[i] < ys[low[k]]) low[k] = i;
    if (high[k] < 0 || ys[i] > ys[high[k]]) high[k] = i;
  }
  const kept = [];
  for (let k = 0; k < slices; k++) {
    const [a, b] = [low[k], high[k]];
    if (a < 0) continue;
    if (a === b) kept.push(a);
    else kept.push(...(xs[a] <= xs[b] ? [a, b] : [b, a]));
  }
  return [kept.map((i) => xs[i]), kept.map((i) => ys[i])];
}
