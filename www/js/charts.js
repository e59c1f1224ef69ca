// Line charts for a run's series (sweeps, queue lengths, heartbeat delays), drawn by uPlot.

import { h } from './dom.js';

/** uPlot loads with the first chart: most topics never draw one. */
let uPlotModule = null;
const loadUPlot = () => (uPlotModule ??= import('../vendor/uPlot.esm.js').then((m) => m.default));

const COLORS = ['#2563eb', '#9ca3af', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d'];

/**
 * One chart per distinct `chart` name, with every series of that name on it.
 * @param {{chart: string, name: string, x: string, y: string, points: [number, number][]}[]} series
 * @param {number} width
 */
export function renderCharts(series, width) {
  const charts = new Map();
  for (const s of series) {
    if (!charts.has(s.chart)) charts.set(s.chart, []);
    charts.get(s.chart).push(s);
  }
  return [...charts.entries()].map(([name, list]) => chart(name, list, width));
}

function chart(name, list, width) {
  const figure = h('figure', { class: 'chart' }, h('figcaption', { text: `${list[0].y} by ${list[0].x}` }));
  const columns = list.map((s) => [s.points.map((p) => p[0]), s.points.map((p) => p[1])]);
  const options = {
    width: Math.max(width, 280),
    height: 240,
    scales: { x: { time: false } },
    axes: [{ label: list[0].x }, { label: list[0].y }],
    series: [
      { label: list[0].x },
      ...list.map((s, i) => ({
        label: s.name,
        stroke: COLORS[i % COLORS.length],
        width: 2,
        spanGaps: true,
        points: { show: s.points.length <= 40 },
        dash: s.name === 'ideal' ? [6, 4] : undefined,
      })),
    ],
  };
  const holder = h('div', { class: 'chart-canvas', dataset: { chart: name }, role: 'img', 'aria-label': `${list[0].y} by ${list[0].x}: ${list.map((s) => s.name).join(', ')}` });
  figure.append(holder);
  loadUPlot().then((uPlot) => new uPlot(options, uPlot.join(columns), holder));
  return figure;
}
