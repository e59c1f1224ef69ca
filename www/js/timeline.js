// The timeline: one row per lane (thread, worker, task), grouped by mode, all modes on the same
// time scale so a faster mode is visibly shorter. Each kind of span has its own look; a table
// version is always available for screen readers and exact numbers.
//
// Whatever the run's size, the page's main thread stays responsive: a mode with a few hundred
// spans gets one SVG rectangle per span (each with its own tooltip); a larger one is summarised
// on a canvas (each pixel column of a lane shows how much of its time went to each kind), so the
// DOM stays small. Spans are grouped as they arrive, and a large timeline is drawn in slices of
// a few milliseconds, yielding to the page in between.

import { cssColour, cssRgb, h, ms, pause, replace, scrollBox, svg } from './dom.js';

/**
 * @typedef {import('./types.js').Span} Span
 * @typedef {Pick<import('./types.js').Mode, 'id' | 'label'>} ModeName a catalog mode or a report's mode row
 * @typedef {{spans: Span[], kinds: Set<string>}} Lane
 * @typedef {{mode: string, start: number, end: number, lanes: Map<string, Lane>}} Group one mode's spans, by lane
 * @typedef {Group & {label: string, laneCount: number}} GroupView a group with what its figure says of it
 * @typedef {{group: GroupView, rows: Map<string, number>, scale: number, plotWidth: number, width: number, height: number}} Frame
 *   what a mode's chart draws: `rows` gives each shown lane's row, `scale` pixels per millisecond
 * @typedef {{mode: string, lane: string, t: number}} StepMark a moment on one lane (a stepper's step)
 */

const LANE_HEIGHT = 18;
const LABEL_WIDTH = 110;
const MAX_LANES = 40;
/** Past this many spans in a mode's shown lanes, the mode is drawn on a canvas. */
export const DETAIL_SPANS = 400;
/** Up to this many spans in all, a timeline is drawn at once (a few milliseconds); past it, in slices. */
const AT_ONCE_SPANS = 5000;
/** Work between two yields to the page while drawing in slices. */
const SLICE_MS = 5;
/** While a run goes on, the timeline is redrawn at most this often (and never more than half the time). */
const LIVE_EVERY_MS = 400;
/** The least height (share of a lane) drawn for a pixel column with any span in it. */
const MIN_SHARE = 0.15;
/** Rows the table shows at first, and adds per "Show more". */
const TABLE_PAGE = 200;

/**
 * What each kind of span means, for legends and tooltips (a kind not listed shows its id).
 * @type {Record<string, string>}
 */
export const KINDS = {
  run: 'running',
  wait: 'blocked / waiting',
  io: 'sleeping / I/O',
  spawn: 'starting',
  copy: 'copying a message',
};
const KIND_IDS = Object.keys(KINDS);
/** The canvas's colours: the CSS custom properties and fill-opacities of `.span-*` in style.css. */
/** @type {Record<string, [variable: string, alpha: number]>} */
const KIND_LOOK = {
  run: ['--run', 1],
  wait: ['--wait', 0.55],
  io: ['--io', 0.6],
  spawn: ['--spawn', 1],
  copy: ['--copy', 1],
};

/** Sorts "thread 2" before "thread 10" (one collator: `localeCompare` with options builds one per call). */
const collator = new Intl.Collator(undefined, { numeric: true });

/** Spans grouped by mode and lane as they arrive (each span is looked at once). */
class Groups {
  constructor() {
    /** @type {Map<string, Group>} */
    this.byMode = new Map();
    this.count = 0;
    /** @type {Span | null} the last span added: a later, longer list that holds it at the same place continues this one */
    this.last = null;
  }

  /** Adds spans[from..to). @param {Span[]} spans @param {number} from @param {number} to */
  add(spans, from, to) {
    for (let i = from; i < to; i++) {
      const span = spans[i];
      let group = this.byMode.get(span.mode);
      if (!group) {
        group = { mode: span.mode, start: Infinity, end: -Infinity, lanes: new Map() };
        this.byMode.set(span.mode, group);
      }
      let lane = group.lanes.get(span.lane);
      if (!lane) {
        lane = { spans: [], kinds: new Set() };
        group.lanes.set(span.lane, lane);
      }
      lane.spans.push(span);
      lane.kinds.add(span.kind);
      if (span.start < group.start) group.start = span.start;
      if (span.end > group.end) group.end = span.end;
    }
    this.count = Math.max(this.count, to);
    if (to > 0) this.last = spans[to - 1];
  }

  /** Whether `spans` starts with the spans added so far (then only the rest needs adding). @param {Span[]} spans */
  continuedBy(spans) {
    return this.count <= spans.length && (this.count === 0 || spans[this.count - 1] === this.last);
  }
}

/**
 * Counts work and says when a slice is used up (`due`, cheap enough to ask per span); then
 * `pause` yields to the page. `sliced: false` is never due: a small timeline is drawn within the
 * task that asked for it.
 */
class Slicer {
  /** @param {boolean} sliced @param {() => boolean} [current] whether the drawing is still wanted */
  constructor(sliced, current = () => true) {
    this.sliced = sliced;
    this.current = current;
    this.until = performance.now() + SLICE_MS;
    this.steps = 0;
  }

  /** After `steps` units of work: whether to pause now. */
  due(steps = 1) {
    this.steps += steps;
    if (!this.sliced || this.steps < 256) return false;
    this.steps = 0;
    return performance.now() >= this.until;
  }

  /** Yields to the page; false if this drawing went out of date meanwhile. */
  async pause() {
    await pause();
    this.until = performance.now() + SLICE_MS;
    return this.current();
  }
}

/**
 * A timeline that can grow: `update` while a run goes on (redrawn now and then, in slices),
 * `show` for the finished run (reusing the spans already grouped when the report continues them).
 */
export class TimelineView {
  /** @param {number} width pixels */
  constructor(width) {
    this.width = width;
    this.groups = new Groups();
    this.element = h('div', { class: 'timeline', dataset: { drawn: 'false' } });
    this.version = 0;
    this.busy = false;
    this.again = false;
    /** @type {ModeName[]} */
    this.modes = [];
    /** @type {Map<string, Block>} each mode's figure as last drawn (a redraw reuses its canvas) */
    this.blocks = new Map();
    this.legend = legend();
    /** @type {StepMark | null} the step a stepper shows, marked on its lane */
    this.mark = null;
  }

  /**
   * Marks one moment on one lane (a stepper's current step): a line across the mode's lanes and
   * a ring on the lane. Kept across redraws; `null` removes it.
   * @param {StepMark | null} mark
   */
  markStep(mark) {
    this.mark = mark;
    this.placeMark();
  }

  placeMark() {
    for (const old of this.element.querySelectorAll('.step-marker')) old.remove();
    const block = this.mark && this.blocks.get(this.mark.mode);
    const row = block?.frame.rows.get(this.mark?.lane ?? '');
    if (!this.mark || !block || row === undefined) return;
    const { frame, chart } = block;
    // Where the chart is drawn inside its figure (SVG elements have no offsetLeft), and at what zoom.
    const box = chart.getBoundingClientRect();
    const around = block.figure.getBoundingClientRect();
    const zoom = box.width / frame.width || 1;
    const x = box.left - around.left + (LABEL_WIDTH + (this.mark.t - frame.group.start) * frame.scale) * zoom;
    const top = box.top - around.top;
    const px = (/** @type {number} */ n) => `${Number(n).toFixed(1)}px`;
    const line = h('div', { class: 'step-marker step-marker-line', 'aria-hidden': 'true' });
    Object.assign(line.style, { left: px(x), top: px(top), height: px(frame.rows.size * LANE_HEIGHT * zoom) });
    const ring = h('div', {
      class: 'step-marker step-marker-ring',
      'aria-hidden': 'true',
      dataset: { lane: this.mark.lane },
    });
    Object.assign(ring.style, {
      left: px(x - 7),
      top: px(top + row * LANE_HEIGHT * zoom),
      width: '14px',
      height: px(LANE_HEIGHT * zoom),
    });
    block.figure.append(line, ring);
  }

  /**
   * While a run goes on: `spans` is the run's growing list; redraws at most every LIVE_EVERY_MS.
   * @param {Span[]} spans
   * @param {ModeName[]} modes
   */
  update(spans, modes) {
    this.modes = modes;
    this.groups.add(spans, this.groups.count, spans.length);
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    (async () => {
      do {
        this.again = false;
        const started = performance.now();
        await this.draw(true);
        const took = performance.now() - started;
        await new Promise((resolve) => setTimeout(resolve, Math.max(LIVE_EVERY_MS, took)));
      } while (this.again && this.element.isConnected);
      this.busy = false;
    })();
  }

  /**
   * The finished run's spans ({mode, lane, label, kind, start, end}, in the order recorded):
   * drawn at once when few, else in slices; returns the element.
   * @param {Span[]} spans
   * @param {ModeName[]} modes mode rows (for labels and order)
   */
  show(spans, modes) {
    this.modes = modes;
    this.version++; // a live redraw still going stops at its next pause
    this.again = false;
    if (!this.groups.continuedBy(spans)) this.groups = new Groups();
    const sliced = spans.length > AT_ONCE_SPANS;
    // What the run drew while it went on stays until the finished drawing replaces it.
    if (sliced && !this.element.childElementCount)
      replace(this.element, h('p', { class: 'muted', text: `Drawing ${spans.length.toLocaleString('en-US')} spans…` }));
    this.element.dataset.drawn = 'false';
    (async () => {
      const version = this.version;
      const slicer = new Slicer(sliced, () => version === this.version);
      for (let from = this.groups.count; from < spans.length; from += 1024) {
        const to = Math.min(spans.length, from + 1024);
        this.groups.add(spans, from, to);
        if (slicer.due(to - from) && !(await slicer.pause())) return;
      }
      await this.draw(sliced);
    })();
    return this.element;
  }

  /**
   * Draws the spans grouped so far; replaces the element's content when done (if still current).
   * @param {boolean} sliced
   */
  async draw(sliced) {
    const version = ++this.version;
    const slicer = new Slicer(sliced, () => version === this.version);
    if (!this.groups.count) {
      replace(this.element, h('p', { class: 'muted', text: 'No spans recorded yet.' }));
      this.element.dataset.drawn = 'true';
      return;
    }
    const order = this.modes.map((m) => m.id);
    const groups = [...this.groups.byMode.values()].sort((a, b) => order.indexOf(a.mode) - order.indexOf(b.mode));
    let longest = 0.001;
    for (const g of groups) longest = Math.max(longest, g.end - g.start);
    const plotWidth = Math.max(this.width - LABEL_WIDTH - 10, 100);
    const scale = plotWidth / longest;
    /** @type {Block[]} */
    const blocks = [];
    for (const group of groups) {
      const block = await modeBlock(
        group,
        modeLabel(this.modes, group.mode),
        scale,
        plotWidth,
        slicer,
        this.blocks.get(group.mode),
      );
      if (!block || version !== this.version) return;
      blocks.push(block);
    }
    this.blocks = new Map(groups.map((g, i) => [g.mode, blocks[i]]));
    // Only new figures change the page's structure; a redrawn canvas changes only its pixels.
    const figures = blocks.map((b) => b.figure);
    const shown = [...this.element.children];
    if (shown[0] !== this.legend || shown.length !== figures.length + 1 || figures.some((f, i) => shown[i + 1] !== f))
      replace(this.element, this.legend, ...figures);
    this.element.dataset.drawn = 'true';
    this.placeMark();
  }
}

/**
 * A mode's label; spans recorded outside every mode are the run's own preparation.
 * @param {ModeName[]} modes
 * @param {string} id
 */
function modeLabel(modes, id) {
  if (!id) return 'Preparation (not timed as a mode)';
  return modes.find((m) => m.id === id)?.label ?? id;
}

/**
 * @typedef {{figure: HTMLElement, caption: Text, note: HTMLElement, canvas: HTMLCanvasElement | null, chart: Element, frame: Frame}} Block
 */

/**
 * One mode's figure, or null if the drawing went out of date while it paused. A summary the
 * same size as `old`'s is drawn into `old`'s canvas.
 * @param {Group} group
 * @param {string} label
 * @param {number} scale
 * @param {number} plotWidth
 * @param {Slicer} slicer
 * @param {Block} [old]
 * @returns {Promise<Block | null>}
 */
async function modeBlock(group, label, scale, plotWidth, slicer, old) {
  const lanes = [...group.lanes.keys()].sort(collator.compare);
  const shown = lanes.slice(0, MAX_LANES);
  /** @type {Map<string, number>} */
  const rows = new Map(shown.map((lane, row) => [lane, row]));
  /** @type {Set<string>} */
  const kinds = new Set();
  let count = 0;
  for (const lane of shown) {
    const { spans, kinds: seen } = /** @type {Lane} */ (group.lanes.get(lane));
    count += spans.length;
    for (const kind of seen) kinds.add(kind);
  }
  const view = { ...group, label, laneCount: lanes.length };
  /** @type {Frame} */
  const frame = {
    group: view,
    rows,
    scale,
    plotWidth,
    width: LABEL_WIDTH + plotWidth + 10,
    height: shown.length * LANE_HEIGHT + 22,
  };
  const summarised = count > DETAIL_SPANS;
  const reuse = summarised && old?.canvas?.dataset.size === `${frame.width}x${frame.height}` ? old : undefined;
  const chart = summarised ? await canvasChart(frame, slicer, reuse?.canvas) : svgChart(frame);
  if (!chart) return null;
  // Which kinds are drawn, whichever way: tests and tools read it from either chart.
  chart.dataset.kinds = [...kinds].join(' ');
  chart.dataset.spans = String(count);
  const more = lanes.length - shown.length;
  const notes = [
    summarised
      ? `${count.toLocaleString('en-US')} spans, summarised: each pixel column shows how much of its time each lane spent on each kind. Point at a lane for the span there; every span is in the table below.`
      : '',
    more > 0 ? `+${more} more lanes (all are in the table below).` : '',
  ].filter(Boolean);
  const caption = ` — ${lanes.length} lane${lanes.length === 1 ? '' : 's'}, ${ms(group.end - group.start)}`;
  if (reuse) {
    reuse.caption.data = caption;
    reuse.note.textContent = notes.join(' ');
    return { ...reuse, frame };
  }
  const block = {
    caption: document.createTextNode(caption),
    note: h('p', { class: 'muted', text: notes.join(' ') }),
    canvas: summarised ? /** @type {HTMLCanvasElement} */ (chart) : null,
  };
  const figure = h(
    'figure',
    { class: 'timeline-mode' },
    h('figcaption', {}, h('strong', { text: label }), block.caption),
    chart,
    block.note,
  );
  return { ...block, figure, chart: /** @type {HTMLElement} */ (/** @type {unknown} */ (chart)), frame };
}

/**
 * The spans of the shown lanes.
 * @param {Group} group
 * @param {Map<string, number>} rows
 * @returns {Generator<Span>}
 */
function* shownSpans(group, rows) {
  for (const lane of rows.keys()) yield* /** @type {Lane} */ (group.lanes.get(lane)).spans;
}

/** @param {GroupView} group */
function ariaLabel(group) {
  return `Timeline of ${group.label}: ${group.laneCount} lanes over ${ms(group.end - group.start)}`;
}

/**
 * One rectangle per span, each with a tooltip: for modes with a few hundred spans at most.
 * @param {Frame} frame
 */
function svgChart(frame) {
  const { group, rows, scale, plotWidth, width, height } = frame;
  const chart = svg('svg', { class: 'timeline-chart', width, height, role: 'img', 'aria-label': ariaLabel(group) });
  for (const [lane, row] of rows) {
    const y = row * LANE_HEIGHT;
    chart.append(
      svg('text', { x: LABEL_WIDTH - 6, y: y + LANE_HEIGHT - 5, class: 'lane-label', 'text-anchor': 'end' }, lane),
    );
    chart.append(
      svg('line', {
        x1: LABEL_WIDTH,
        x2: LABEL_WIDTH + plotWidth,
        y1: y + LANE_HEIGHT - 0.5,
        y2: y + LANE_HEIGHT - 0.5,
        class: 'lane-rule',
      }),
    );
  }
  for (const span of shownSpans(group, rows)) {
    const row = /** @type {number} */ (rows.get(span.lane));
    const x = LABEL_WIDTH + (span.start - group.start) * scale;
    const w = Math.max((span.end - span.start) * scale, 1);
    const rect = svg('rect', {
      x,
      y: row * LANE_HEIGHT + 2,
      width: w,
      height: LANE_HEIGHT - 5,
      class: `span span-${span.kind}`,
      rx: 2,
    });
    rect.append(svg('title', {}, describe(span)));
    chart.append(rect);
  }
  const axisY = rows.size * LANE_HEIGHT + 4;
  for (const { x, text } of ticks(scale, plotWidth)) {
    chart.append(svg('line', { x1: x, x2: x, y1: axisY, y2: axisY + 4, class: 'tick' }));
    chart.append(svg('text', { x, y: axisY + 15, class: 'tick-label', 'text-anchor': 'middle' }, text));
  }
  return chart;
}

/**
 * The summary: per lane and pixel column, the share of that column's time each kind covers,
 * stacked from the lane's baseline, written as pixels (colours as in style.css, over the
 * panel's). Cost: one pass over the spans plus one over the lanes' pixels, paused in slices.
 * Returns null if the drawing went out of date while it paused.
 * @param {Frame} frame
 * @param {Slicer} slicer
 * @param {HTMLCanvasElement | null} [into] a canvas of the same size to draw into
 */
async function canvasChart(frame, slicer, into = null) {
  const { group, rows, scale, plotWidth, width, height } = frame;
  const ratio = Math.min(Math.max(Math.round(window.devicePixelRatio || 1), 1), 2);
  const kindsCount = KIND_IDS.length + 1; // the last one: kinds this file does not know
  const cover = new Float32Array(rows.size * plotWidth * kindsCount);
  for (const span of shownSpans(group, rows)) {
    const row = /** @type {number} */ (rows.get(span.lane));
    const kind = KIND_IDS.indexOf(span.kind);
    const k = kind < 0 ? kindsCount - 1 : kind;
    const x0 = Math.min((span.start - group.start) * scale, plotWidth - 1e-6);
    const x1 = Math.min(Math.max((span.end - group.start) * scale, x0 + 1e-6), plotWidth);
    for (let col = Math.floor(x0); col < x1; col++) {
      cover[(row * plotWidth + col) * kindsCount + k] += Math.min(x1, col + 1) - Math.max(x0, col);
    }
    if (slicer.due() && !(await slicer.pause())) return null;
  }
  const canvas =
    into ??
    /** @type {HTMLCanvasElement} */ (
      h('canvas', {
        class: 'timeline-chart',
        width: width * ratio,
        height: height * ratio,
        dataset: { drawn: 'summary', size: `${width}x${height}` },
      })
    );
  canvas.style.width = `${width}px`;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${ariaLabel(group)}, summarised; the table below lists every span`);
  const ctx = canvas.getContext('2d');
  if (!ctx) return canvas;
  const { colours, muted, rule, tick } = look();
  // The lanes' pixels: one column of `ratio` device pixels per plot pixel.
  const image = ctx.createImageData(plotWidth * ratio, rows.size * LANE_HEIGHT * ratio);
  const pixels = new Uint32Array(image.data.buffer);
  const stride = plotWidth * ratio;
  const barHeight = (LANE_HEIGHT - 5) * ratio;
  for (let row = 0; row < rows.size; row++) {
    const base = (row * LANE_HEIGHT + 2) * ratio + barHeight; // the lane's baseline, in device pixels
    for (let col = 0; col < plotWidth; col++) {
      const at = (row * plotWidth + col) * kindsCount;
      let total = 0;
      for (let k = 0; k < kindsCount; k++) total += cover[at + k];
      if (total === 0) continue;
      // Overlapping spans share the column; a column with only a sliver of work still shows.
      const fit = total > 1 ? 1 / total : total < MIN_SHARE ? MIN_SHARE / total : 1;
      let top = base;
      let reached = 0;
      for (let k = 0; k < kindsCount; k++) {
        if (cover[at + k] <= 0) continue;
        reached += cover[at + k] * fit * barHeight;
        const next = base - Math.round(reached);
        for (let y = next; y < top; y++)
          pixels.fill(colours[k], y * stride + col * ratio, y * stride + (col + 1) * ratio);
        top = next;
      }
    }
    if (slicer.due(plotWidth) && !(await slicer.pause())) return null;
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.putImageData(image, LABEL_WIDTH * ratio, 0);
  // Labels, rules and the axis, as in the SVG view.
  ctx.scale(ratio, ratio);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = muted;
  ctx.strokeStyle = rule;
  ctx.textAlign = 'right';
  for (const [lane, row] of rows) {
    const y = row * LANE_HEIGHT;
    ctx.fillText(lane, LABEL_WIDTH - 6, y + LANE_HEIGHT - 5, LABEL_WIDTH - 8);
    ctx.beginPath();
    ctx.moveTo(LABEL_WIDTH, y + LANE_HEIGHT - 0.5);
    ctx.lineTo(LABEL_WIDTH + plotWidth, y + LANE_HEIGHT - 0.5);
    ctx.stroke();
  }
  ctx.textAlign = 'center';
  ctx.strokeStyle = tick;
  const axisY = rows.size * LANE_HEIGHT + 4;
  for (const { x, text } of ticks(scale, plotWidth)) {
    ctx.beginPath();
    ctx.moveTo(x, axisY);
    ctx.lineTo(x, axisY + 4);
    ctx.stroke();
    ctx.fillText(text, x, axisY + 15);
  }
  if (!frames.has(canvas)) pointAt(canvas);
  frames.set(canvas, frame);
  return canvas;
}

/** @type {{colours: number[], muted: string, rule: string, tick: string} | null} */
let looks = null;
// The theme can follow the system's while the page is open: the next drawing reads the colours again.
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => (looks = null));

/** The canvas's colours, read from the page's CSS once per theme (reading styles can force a style pass). */
function look() {
  if (looks) return looks;
  const panel = cssColour('--panel');
  const colours = [...KIND_IDS, ''].map((id) => {
    const [variable, alpha] = KIND_LOOK[id] ?? ['--muted', 1];
    return pixel(cssColour(variable), panel, alpha);
  });
  looks = { colours, muted: cssRgb('--muted'), rule: cssRgb('--rule'), tick: cssRgb('--tick') };
  return looks;
}

/**
 * A colour at `alpha` over the panel's, as one RGBA pixel (little-endian).
 * @param {number[]} colour
 * @param {number[]} under
 * @param {number} alpha
 */
function pixel(colour, under, alpha) {
  const [r, g, b] = colour.map((c, i) => Math.round(c * alpha + under[i] * (1 - alpha)));
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** What each summary canvas shows now, for its tooltip. @type {WeakMap<HTMLCanvasElement, Frame>} */
const frames = new WeakMap();

/**
 * The canvas's tooltip: the span under the pointer (a lane's spans sorted on first use).
 * @param {HTMLCanvasElement} canvas one that `frames` has
 */
function pointAt(canvas) {
  /** @type {WeakMap<Span[], Span[]>} a lane's spans, by start */
  const sorted = new WeakMap();
  canvas.addEventListener('mousemove', (event) => {
    const { group, rows, scale, width } = /** @type {Frame} */ (frames.get(canvas));
    const names = [...rows.keys()];
    const box = canvas.getBoundingClientRect();
    const zoom = box.width / width;
    const lane = names[Math.floor((event.clientY - box.top) / zoom / LANE_HEIGHT)];
    const t = group.start + ((event.clientX - box.left) / zoom - LABEL_WIDTH) / scale;
    if (lane === undefined || t < group.start) {
      canvas.title = '';
      return;
    }
    const spans = /** @type {Lane} */ (group.lanes.get(lane)).spans;
    let list = sorted.get(spans);
    if (!list || list.length !== spans.length) {
      list = [...spans].sort((a, b) => a.start - b.start);
      sorted.set(spans, list);
    }
    // The last span starting before t, then back a little for one still going (spans may nest).
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].start <= t) lo = mid + 1;
      else hi = mid;
    }
    const slack = 1 / scale; // one pixel
    let found = null;
    for (let i = lo - 1; i >= 0 && i >= lo - 64; i--) {
      if (list[i].end + slack >= t) {
        found = list[i];
        break;
      }
    }
    canvas.title = found ? describe(found) : `${lane}: nothing at ${ms(t - group.start)}`;
  });
}

/** @param {Span} span */
function describe(span) {
  return `${span.lane}: ${span.label} (${KINDS[span.kind] ?? span.kind}) ${ms(span.start)} → ${ms(span.end)}, ${ms(span.end - span.start)}`;
}

/**
 * Axis ticks at round numbers of milliseconds.
 * @param {number} scale pixels per millisecond
 * @param {number} plotWidth
 */
function ticks(scale, plotWidth) {
  const total = plotWidth / scale;
  const step = niceStep(total / 6);
  const out = [];
  for (let t = 0; t <= total + 1e-9; t += step) out.push({ x: LABEL_WIDTH + t * scale, text: ms(t) });
  return out;
}

/** @param {number} raw */
function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
}

function legend() {
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Legend' },
    ...Object.entries(KINDS).map(([kind, text]) =>
      h(
        'li',
        {},
        svg(
          'svg',
          { width: 14, height: 10, 'aria-hidden': 'true' },
          svg('rect', { width: 14, height: 10, class: `span span-${kind}` }),
        ),
        text,
      ),
    ),
  );
}

/**
 * The same spans as a table: the text alternative to the chart. Rows are made when asked for,
 * a page at a time ("Show more"), so a run of any size costs little until someone reads it.
 * @param {Span[]} spans
 * @param {ModeName[]} modes
 */
export function timelineTable(spans, modes) {
  const columns = ['Mode', 'Lane', 'What', 'Kind', 'Start', 'End', 'Duration'];
  return pagedTable(
    columns,
    spans.length,
    (i) => {
      const s = spans[i];
      return [
        modeLabel(modes, s.mode),
        s.lane,
        s.label,
        KINDS[s.kind] ?? s.kind,
        ms(s.start),
        ms(s.end),
        ms(s.end - s.start),
      ];
    },
    { numeric: [4, 5, 6], noun: 'spans', label: 'Timeline as a table' },
  );
}

/**
 * A table whose rows are built `TABLE_PAGE` at a time: the first page now, the next ones when
 * the reader presses "Show more".
 * @param {string[]} columns
 * @param {number} count
 * @param {(i: number) => (string | number)[]} cells
 * @param {{numeric?: number[], noun?: string, page?: number, label?: string}} [options] label: what the table holds, for its scroll box
 */
export function pagedTable(
  columns,
  count,
  cells,
  { numeric = [], noun = 'rows', page = TABLE_PAGE, label = 'Table' } = {},
) {
  const body = h('tbody');
  const status = h('span', { class: 'muted' });
  let made = 0;
  const more = h('button', { type: 'button', class: 'show-more', onclick: () => showNext() });
  const footer = h('p', { class: 'table-more' }, status, ' ', more);
  function showNext() {
    const until = Math.min(count, made + page);
    const rows = [];
    for (; made < until; made++)
      rows.push(
        h('tr', {}, ...cells(made).map((text, c) => h('td', { class: numeric.includes(c) ? 'num' : undefined, text }))),
      );
    body.append(...rows);
    status.textContent = `${made.toLocaleString('en-US')} of ${count.toLocaleString('en-US')} ${noun} shown.`;
    more.textContent = `Show ${Math.min(page, count - made).toLocaleString('en-US')} more`;
    footer.hidden = made >= count;
  }
  showNext();
  return scrollBox(
    label,
    h(
      'table',
      { class: 'data' },
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col', text: c })))),
      body,
    ),
    footer,
  );
}
