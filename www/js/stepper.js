// The stepper: walks through a recorded interleaving (a report's `steppers`), one real step at
// a time: Previous / Next / Play, a slider, a jump to the next finding (a lost update, a
// deadlock), the state after the step (the shared value, each thread's copy, who holds which
// lock), the finding explained, and a wait-for graph when there is one. Generic: it knows the
// step vocabulary (read, write, lock-*), never a topic.

import { h, ms, replace, svg, useStylesheet } from './dom.js';

useStylesheet(new URL('../css/stepper.css', import.meta.url));

/**
 * @typedef {import('./types.js').Step} Step
 * @typedef {import('./types.js').Stepper} Stepper
 * @typedef {import('./types.js').WaitGraph} WaitGraph
 * @typedef {{markStep: (mark: import('./timeline.js').StepMark | null) => void}} StepMarker the timeline, as the stepper uses it
 */

const PLAY_EVERY_MS = 450;

/** Sorts "thread 2" before "thread 10". */
const collator = new Intl.Collator(undefined, { numeric: true });

/** @type {Record<string, (step: Step, shared: string) => string>} a step, said (an op not listed is said plainly) */
const OPS = {
  read: (s, shared) => `${s.thread} read the ${shared}: ${s.value}`,
  write: (s, shared) => `${s.thread} wrote ${s.value} to the ${shared}${s.was !== undefined ? ` (over ${s.was})` : ''}`,
  'lock-wait': (s) => `${s.thread} asks for ${s.value}`,
  'lock-acquire': (s) => `${s.thread} takes ${s.value}`,
  'lock-release': (s) => `${s.thread} releases ${s.value}`,
  'lock-give-up': (s) => `${s.thread} gives up waiting for ${s.value}`,
  'lock-cancelled': (s) => `${s.thread} is cancelled while waiting for ${s.value}`,
};

/**
 * "thread 3 read the balance: 120".
 * @param {Step} step
 * @param {string} shared what the shared value is called
 */
export function describeStep(step, shared) {
  return (OPS[step.op] ?? ((/** @type {Step} */ s) => `${s.thread}: ${s.op} ${s.value}`))(step, shared);
}

/**
 * When a step happened: its time, or on the scheduler (which has no clock) its number.
 * @param {Stepper} stepper
 * @param {number} t
 */
function when(stepper, t) {
  return stepper.clock === 'step' ? `step ${(t + 1).toLocaleString('en-US')}` : ms(t);
}

/**
 * One stepper per recorded mode, the first open.
 * @param {Stepper[]} steppers
 * @param {import('./timeline.js').ModeName[]} modes mode rows (for labels)
 * @param {StepMarker} timeline
 */
export function steppersView(steppers, modes, timeline) {
  return steppers.map((stepper, i) => {
    const label = modes.find((m) => m.id === stepper.mode)?.label ?? stepper.mode;
    const details = /** @type {HTMLDetailsElement} */ (
      h(
        'details',
        { class: 'stepper-mode', open: i === 0, dataset: { mode: stepper.mode } },
        h('summary', { text: `${label}: ${summaryOf(stepper)}` }),
      )
    );
    details.append(stepperView(stepper, label, timeline, i === 0));
    return details;
  });
}

/** @param {Stepper} stepper */
function summaryOf(stepper) {
  const n = stepper.findings.length;
  const found = n === 0 ? `no ${stepper.finding}` : `${n.toLocaleString('en-US')} ${plural(stepper.finding, n)}`;
  return `${stepper.recorded.toLocaleString('en-US')} steps recorded, ${found}`;
}

const plural = (/** @type {string} */ noun, /** @type {number} */ n) => (n === 1 ? noun : `${noun}s`);

/**
 * @param {Stepper} stepper
 * @param {string} label the mode's
 * @param {StepMarker} timeline
 * @param {boolean} marked whether the first step is marked on the timeline at once
 */
function stepperView(stepper, label, timeline, marked) {
  const steps = stepper.steps;
  const last = Math.max(steps.length - 1, 0);
  let at = 0;
  let playing = 0;
  const findingAt = new Map(stepper.findings.map((f, i) => [f.step, i]));

  const button = (
    /** @type {string | (Node | string)[]} */ text,
    /** @type {Record<string, unknown>} */ attrs,
    /** @type {() => void} */ onclick,
  ) => h('button', { type: 'button', ...attrs, onclick }, text);
  const arrow = (/** @type {string} */ glyph) => h('span', { 'aria-hidden': 'true', text: glyph });
  const prev = button([arrow('◀ '), 'Previous'], { class: 'step-prev', 'aria-keyshortcuts': 'ArrowLeft' }, () =>
    go(at - 1),
  );
  const next = button(['Next', arrow(' ▶')], { class: 'step-next', 'aria-keyshortcuts': 'ArrowRight' }, () =>
    go(at + 1),
  );
  const play = button('Play', { class: 'step-play', 'aria-pressed': 'false', 'aria-keyshortcuts': 'P' }, () =>
    toggle(),
  );
  const jump = button(
    `Next ${stepper.finding}`,
    { class: 'step-finding', 'aria-keyshortcuts': 'N', disabled: stepper.findings.length === 0 },
    () => nextFinding(),
  );
  const slider = /** @type {HTMLInputElement} */ (
    h('input', {
      type: 'range',
      min: 1,
      max: last + 1,
      value: 1,
      class: 'step-slider',
      'aria-label': `Step of ${label}`,
    })
  );
  slider.addEventListener('input', () => go(Number(slider.value) - 1));
  const now = h('p', { class: 'step-now', 'aria-live': 'polite' });
  const explain = h('div', { class: 'step-explain' });
  const state = h('div', { class: 'step-state' });

  const root = h(
    'div',
    {
      class: 'stepper',
      role: 'group',
      'aria-label': `Step through ${label}`,
      dataset: { mode: stepper.mode },
      onkeydown: (/** @type {KeyboardEvent} */ e) => keys(e),
    },
    h(
      'p',
      { class: 'muted step-note' },
      stepper.note,
      ' ',
      findingsLine(stepper),
      ' Keys: ← → step, Home/End, N next ',
      stepper.finding,
      ', P play.',
    ),
    h(
      'div',
      { class: 'step-controls' },
      prev,
      play,
      next,
      jump,
      h('label', { class: 'step-slider-label' }, 'Step ', slider),
    ),
    now,
    explain,
    state,
    stepper.graph ? waitGraph(stepper.graph, steps, stepper.clock) : null,
  );

  /** @param {KeyboardEvent} event */
  function keys(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const onSlider = event.target === slider;
    /** @type {Record<string, () => void>} */
    const actions = {
      ArrowLeft: () => go(at - 1),
      ArrowRight: () => go(at + 1),
      Home: () => go(0),
      End: () => go(last),
      n: () => nextFinding(),
      N: () => nextFinding(),
      p: () => toggle(),
      P: () => toggle(),
    };
    const action = actions[event.key];
    if (!action || (onSlider && event.key.length > 1)) return; // the slider moves itself with arrows
    event.preventDefault();
    action();
  }

  function nextFinding() {
    const after = stepper.findings.find((f) => f.step > at) ?? stepper.findings[0];
    if (after) go(after.step);
  }

  function toggle() {
    if (playing) {
      stop();
      return;
    }
    if (at >= last) go(0);
    play.textContent = 'Pause';
    play.setAttribute('aria-pressed', 'true');
    playing = window.setInterval(() => {
      if (!root.isConnected || at >= last) stop();
      else go(at + 1);
    }, PLAY_EVERY_MS);
  }

  function stop() {
    clearInterval(playing);
    playing = 0;
    play.textContent = 'Play';
    play.setAttribute('aria-pressed', 'false');
  }

  /** @param {number} index */
  function go(index, mark = true) {
    at = Math.min(Math.max(index, 0), last);
    const step = steps[at];
    slider.value = String(at + 1);
    // aria-disabled, not disabled: a button that keeps focus at the ends keeps the keys working.
    prev.setAttribute('aria-disabled', String(at === 0));
    next.setAttribute('aria-disabled', String(at === last));
    root.dataset.step = String(at);
    if (!step) {
      replace(now, 'No steps were recorded.');
      return;
    }
    replace(
      now,
      h('strong', { text: `Step ${(at + 1).toLocaleString('en-US')} of ${steps.length.toLocaleString('en-US')}` }),
      ` · ${when(stepper, step.t)} · ${describeStep(step, stepper.shared)}`,
    );
    showFinding();
    replace(state, stateTable(stepper, at));
    // A scheduler's steps have no time to mark on the timeline.
    if (mark && stepper.clock === 'ms') timeline.markStep({ mode: stepper.mode, lane: step.thread, t: step.t });
  }

  function showFinding() {
    const i = findingAt.get(at);
    explain.className = i === undefined ? 'step-explain' : 'step-explain finding';
    if (i === undefined) {
      const ahead = stepper.findings.find((f) => f.step > at);
      replace(
        explain,
        h('p', {
          class: 'muted',
          text: ahead
            ? `The next ${stepper.finding} is at step ${(ahead.step + 1).toLocaleString('en-US')}.`
            : `No ${stepper.finding} after this step.`,
        }),
      );
      return;
    }
    const title = `${stepper.finding[0].toUpperCase()}${stepper.finding.slice(1)} ${i + 1} of ${stepper.findings.length}: `;
    replace(explain, h('p', { role: 'note' }, h('strong', { text: title }), stepper.findings[i].text));
  }

  go(0, marked);
  return root;
}

/** @param {Stepper} stepper */
function findingsLine(stepper) {
  const n = stepper.findings.length;
  if (n === 0) return `No ${stepper.finding} in the recorded steps.`;
  return `${n.toLocaleString('en-US')} ${plural(stepper.finding, n)} in the recorded steps.`;
}

/**
 * The state after step `at`, replayed from the steps: the shared value, each thread, each lock.
 * @param {Stepper} stepper
 * @param {number} at
 */
function stateAt(stepper, at) {
  /** @type {Map<string, ThreadState>} */
  const threads = new Map();
  /** @type {Map<string, string>} lock -> holder */
  const holders = new Map();
  /** @type {number | null} */
  let shared = null;
  let memory = false;
  for (const step of stepper.steps)
    threads.has(step.thread) || threads.set(step.thread, { read: null, wrote: null, last: '', waits: null });
  for (let i = 0; i <= at; i++) {
    const s = stepper.steps[i];
    const th = /** @type {ThreadState} every thread was added above */ (threads.get(s.thread));
    th.last = describeStep(s, stepper.shared);
    if (s.op !== 'lock-wait') th.waits = null;
    if (s.op === 'read') [th.read, shared, memory] = [s.value, s.value, true];
    else if (s.op === 'write') [th.wrote, shared, memory] = [s.value, s.value, true];
    else if (s.op === 'lock-wait') th.waits = s.value;
    else if (s.op === 'lock-acquire') holders.set(s.value, s.thread);
    else if (s.op === 'lock-release' && holders.get(s.value) === s.thread) holders.delete(s.value);
  }
  for (const lock of stepper.locks) if (!holders.has(lock)) holders.set(lock, '');
  return { threads, holders, shared, memory };
}

/** @typedef {{read: number | null, wrote: number | null, last: string, waits: string | null}} ThreadState */

/**
 * @param {Stepper} stepper
 * @param {number} at
 */
function stateTable(stepper, at) {
  const { threads, holders, shared, memory } = stateAt(stepper, at);
  const current = stepper.steps[at]?.thread;
  const locks = stepper.locks.length > 0;
  const names = [...threads.keys()].sort(collator.compare);
  const heads = [
    'Thread',
    ...(memory ? [`Its copy (last read)`, 'Last wrote'] : []),
    ...(locks ? ['Holds', 'Waits for'] : []),
    'Its last step',
  ];
  const rows = names.map((name) => {
    const th = /** @type {ThreadState} */ (threads.get(name));
    const holds = [...holders]
      .filter(([, who]) => who === name)
      .map(([lock]) => lock)
      .join(', ');
    const cells = [
      ...(memory ? [th.read ?? '—', th.wrote ?? '—'] : []),
      ...(locks ? [holds || '—', th.waits ?? '—'] : []),
      th.last || '(not started)',
    ];
    return h(
      'tr',
      { class: name === current ? 'current' : undefined },
      h('th', { scope: 'row', text: name }),
      ...cells.map((c) => h('td', { text: String(c) })),
    );
  });
  const sharedLine = memory
    ? h(
        'p',
        { class: 'step-shared' },
        `Shared ${stepper.shared} after this step: `,
        h('strong', { text: String(shared ?? '—') }),
      )
    : null;
  const lockLine = locks
    ? h(
        'p',
        { class: 'step-locks' },
        'Locks after this step: ',
        [...holders].map(([lock, who]) => `${lock} ${who ? `held by ${who}` : 'free'}`).join(' · '),
      )
    : null;
  return [
    sharedLine,
    lockLine,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data step-threads' },
        h('caption', { text: `Each thread after step ${(at + 1).toLocaleString('en-US')}` }),
        h('thead', {}, h('tr', {}, ...heads.map((c) => h('th', { scope: 'col', text: c })))),
        h('tbody', {}, ...rows),
      ),
    ),
  ];
}

/**
 * The wait-for graph when the circle closed: threads and locks around a circle, an arrow from
 * each thread to the lock it waits for, and from each lock to the thread holding it.
 * @param {WaitGraph} graph
 * @param {Step[]} steps
 * @param {Stepper['clock']} clock
 */
function waitGraph(graph, steps, clock) {
  // Nodes in the order the arrows go round, so the circle reads as one.
  /** @type {string[]} */
  const order = [];
  const nextOf = new Map(graph.edges.map(([from, to]) => [from, to]));
  for (
    let /** @type {string | undefined} */ node = graph.cycle[0];
    node !== undefined && !order.includes(node);
    node = nextOf.get(node)
  )
    order.push(node);
  for (const [from, to] of graph.edges) for (const node of [from, to]) if (!order.includes(node)) order.push(node);
  const size = 320;
  const radius = 115;
  const centre = size / 2;
  const place = new Map(
    order.map((node, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / order.length;
      return [node, { x: centre + radius * Math.cos(angle), y: centre + radius * Math.sin(angle) }];
    }),
  );
  const threads = new Set(graph.cycle);
  const picture = svg('svg', {
    class: 'wait-graph',
    width: size,
    height: size,
    viewBox: `0 0 ${size} ${size}`,
    role: 'img',
    'aria-label': `Wait-for graph: ${graph.edges.map(([a, b, what]) => `${a} ${what} ${b}`).join('; ')}`,
  });
  picture.append(
    svg(
      'defs',
      {},
      svg(
        'marker',
        {
          id: 'wait-arrow',
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'wait-arrow-head' }),
      ),
    ),
  );
  for (const [from, to, what] of graph.edges) {
    // Every edge's ends are in `order`, so placed.
    const [a, b] = /** @type {{x: number, y: number}[]} */ ([place.get(from), place.get(to)]);
    const [dx, dy] = [b.x - a.x, b.y - a.y];
    const length = Math.hypot(dx, dy) || 1;
    const pad = 30; // stop short of the node's label
    const line = svg('line', {
      x1: a.x + (dx * pad) / length,
      y1: a.y + (dy * pad) / length,
      x2: b.x - (dx * pad) / length,
      y2: b.y - (dy * pad) / length,
      class: `wait-edge ${what === 'waits for' ? 'waits' : 'held'}`,
      'marker-end': 'url(#wait-arrow)',
    });
    // The label sits beside its arrow, on the outer side of the circle.
    const [mx, my] = [(a.x + b.x) / 2, (a.y + b.y) / 2];
    const [nx, ny] = [-dy / length, dx / length];
    const side = (mx - centre) * nx + (my - centre) * ny >= 0 ? 1 : -1;
    picture.append(
      line,
      svg(
        'text',
        { x: mx + side * nx * 16, y: my + side * ny * 16 + 4, class: 'wait-edge-label', 'text-anchor': 'middle' },
        what,
      ),
    );
  }
  for (const [node, { x, y }] of place) {
    const thread = threads.has(node);
    picture.append(
      thread
        ? svg('rect', { x: x - 34, y: y - 13, width: 68, height: 26, rx: 6, class: 'wait-node thread' })
        : svg('circle', { cx: x, cy: y, r: 24, class: 'wait-node lock' }),
      svg('text', { x, y: y + 4, class: 'wait-node-label', 'text-anchor': 'middle' }, node),
    );
  }
  const at = steps[graph.step];
  const caption = `Who waits for whom at step ${(graph.step + 1).toLocaleString('en-US')} ${at && clock === 'ms' ? ` (${ms(at.t)})` : ''}, when the circle closed: an arrow from a thread to the lock it waits for, and from a lock to the thread that holds it.`;
  return h('figure', { class: 'wait-graph-figure' }, picture, h('figcaption', { class: 'muted', text: caption }));
}
