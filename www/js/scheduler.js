// "Be the scheduler": the learner picks which thread takes the next shared step of a topic's
// lesson (src/interleaving/schedule.rs), and "Find the bug" explores every interleaving of its
// small instance. Rust replays the choices from scratch for each answer, so undo is sending one
// choice fewer. Everything shown comes from the answer: this file knows no topic.

import { h, replace } from './dom.js';

/**
 * @typedef {import('./types.js').ScheduleView} ScheduleView
 * @typedef {import('./types.js').ScheduleSearch} ScheduleSearch
 * @typedef {import('./types.js').ScheduleRequest} ScheduleRequest
 * @typedef {{schedule: (topic: string, request: ScheduleRequest, search: boolean) => Promise<unknown>}} Scheduler the engine, as this panel uses it
 */

/** Scheduler events go to the embed API (embed-api.js), which posts them to the parent page. */
export const SCHEDULER_EVENT = 'playground-scheduler';

/** @param {Record<string, unknown>} message */
function announce(message) {
  window.dispatchEvent(new CustomEvent(SCHEDULER_EVENT, { detail: message }));
}

/**
 * Builds the panel for `topic` in `container`.
 * @param {HTMLElement} container
 * @param {string} topic
 * @param {string} goal
 * @param {Promise<Scheduler>} engineReady
 */
export function mountScheduler(container, topic, goal, engineReady) {
  /** @type {number[]} */
  let choices = [];
  /** @type {string | null} */
  let variant = null;
  /** @type {ScheduleView | null} */
  let view = null;

  const variants = /** @type {HTMLSelectElement} */ (
    h('select', { class: 'schedule-variant', onchange: () => restart(variants.value) })
  );
  const status = h('p', { class: 'schedule-status', role: 'status', 'aria-live': 'polite' });
  const shared = h('p', { class: 'schedule-shared' });
  const threads = h('div', {
    class: 'schedule-threads',
    role: 'group',
    'aria-label': 'Threads: pick the one that moves next',
  });
  const undo = /** @type {HTMLButtonElement} */ (
    h('button', {
      type: 'button',
      class: 'schedule-undo',
      'aria-keyshortcuts': 'Backspace Control+Z',
      text: 'Undo',
      onclick: () => back(),
    })
  );
  const again = h('button', {
    type: 'button',
    class: 'schedule-restart',
    text: 'Start over',
    onclick: () => restart(variant),
  });
  const find = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', class: 'schedule-find', text: 'Find the bug', onclick: () => findBug() })
  );
  const searchOut = h('p', { class: 'schedule-search', role: 'status', 'aria-live': 'polite' });
  const steps = h('div', { class: 'schedule-steps' });

  const panel = h(
    'div',
    { class: 'scheduler', onkeydown: (/** @type {KeyboardEvent} */ e) => keys(e) },
    h('p', { class: 'schedule-goal' }, h('strong', { text: 'Goal: ' }), goal),
    h('p', {
      class: 'muted',
      text: 'You are the scheduler: each button moves one thread by one shared step. Keys: 1-9 move that thread, ← → pick a thread and Enter moves it, Backspace or Ctrl+Z undoes.',
    }),
    h('label', { class: 'schedule-variant-label' }, 'Version: ', variants),
    shared,
    threads,
    status,
    h('div', { class: 'actions' }, undo, again, find),
    searchOut,
    steps,
  );
  replace(container, panel);
  ask();

  /** Asks Rust for the view after `choices` and shows it. */
  async function ask() {
    const engine = await engineReady;
    // A panel its page has left asks nothing: the question would switch the engine back to its topic's part.
    if (!container.isConnected) return;
    const answer = /** @type {ScheduleView | {error?: string, errors?: {message: string}[]}} */ (
      await engine.schedule(topic, { variant, choices }, false)
    );
    if (!('threads' in answer)) {
      replace(status, answer.error ?? answer.errors?.[0]?.message ?? 'The scheduler did not answer.');
      return;
    }
    const reachedBefore = view?.reached === true && view.variant === answer.variant;
    view = answer;
    variant = answer.variant;
    render(answer);
    if (answer.reached && !reachedBefore)
      announce({ type: 'goal-reached', topic, variant, choices: [...choices], explanation: answer.explanation });
  }

  /** @param {ScheduleView} v */
  function render(v) {
    if (variants.options.length === 0) {
      variants.append(...v.variants.map((x) => h('option', { value: x.id, text: x.label })));
    }
    variants.value = v.variant;
    const locks = v.locks.map((l) => `${l.name}: ${l.holder ? `held by ${l.holder}` : 'free'}`);
    const value = v.shared ? [h('strong', { text: `${v.shared}: ${v.value}` }), locks.length ? ' · ' : ''] : [];
    replace(shared, ...value, locks.join(' · '));
    const focused = threads.contains(document.activeElement)
      ? [...threads.children].indexOf(/** @type {Element} */ (document.activeElement))
      : -1;
    replace(
      threads,
      ...v.threads.map((t, i) => {
        const doing = t.done ? 'done' : (t.next ?? 'waiting');
        // A lesson with locks only has no shared value, so no copies.
        const copy = !v.shared ? '' : t.local === null ? ' · nothing read yet' : ` · its copy: ${t.local}`;
        const why = t.waits_for ? ` (waits: ${t.waits_for})` : '';
        return h(
          'button',
          {
            type: 'button',
            class: 'schedule-thread',
            disabled: !t.enabled,
            'aria-keyshortcuts': String(i + 1),
            dataset: { thread: String(i) },
            onclick: () => move(i),
          },
          // The visible text is the button's name (what a screen reader says is what is shown).
          h('strong', { text: `${i + 1}. ${t.name}` }),
          h('span', { text: ` next: ${doing}` }),
          h('span', { class: 'muted', text: `${copy}${why}` }),
        );
      }),
    );
    if (focused >= 0) keepFocus(focused);
    undo.disabled = v.choices.length === 0;
    status.className = `schedule-status${v.reached ? ' schedule-reached' : ''}`;
    replace(status, v.reached ? h('strong', { text: 'Goal reached. ' }) : '', v.message);
    showSteps(v);
  }

  /** The steps so far, in the page's stepper. @param {ScheduleView} v */
  async function showSteps(v) {
    if (v.stepper.steps.length === 0) return replace(steps);
    const { steppersView } = await import('./stepper.js');
    if (view !== v) return;
    const label = v.variants.find((x) => x.id === v.variant)?.label ?? v.variant;
    replace(steps, ...steppersView([v.stepper], [{ id: v.stepper.mode, label }], { markStep: () => {} }));
  }

  /** @param {number} thread */
  function move(thread) {
    if (!view?.threads[thread]?.enabled) return;
    choices = [...choices, thread];
    announce({ type: 'schedule-step', topic, variant, thread, step: view.threads[thread].next, choices: [...choices] });
    ask();
  }

  function back() {
    if (choices.length === 0) return;
    choices = choices.slice(0, -1);
    ask();
  }

  /** @param {string | null} to */
  function restart(to) {
    variant = to;
    choices = [];
    replace(searchOut);
    ask();
  }

  async function findBug() {
    find.disabled = true;
    replace(searchOut, 'Exploring every interleaving…');
    try {
      const engine = await engineReady;
      const found = /** @type {ScheduleSearch | {error?: string}} */ (
        await engine.schedule(topic, { variant, choices: [] }, true)
      );
      if (!('interleavings' in found)) return replace(searchOut, found.error ?? 'The search did not answer.');
      const took = `(${found.states.toLocaleString('en-US')} states, ${found.ms.toFixed(1)} ms)`;
      replace(
        searchOut,
        h('strong', { text: found.summary }),
        ` ${took}`,
        found.shortest ? ' The shortest one is replayed above and in the steps below.' : '',
      );
      announce({
        type: 'search-result',
        topic,
        variant: found.variant,
        interleavings: found.interleavings,
        failing: found.failing,
        shortest: found.shortest,
        summary: found.summary,
      });
      if (found.shortest) {
        choices = found.shortest;
        await ask();
      }
    } finally {
      find.disabled = false;
    }
  }

  /** @param {number} from @param {number} by */
  function focusThread(from, by) {
    const buttons = /** @type {HTMLButtonElement[]} */ ([...threads.querySelectorAll('button')]);
    if (buttons.length === 0) return;
    const at = (from + by + buttons.length) % buttons.length;
    buttons[at].focus();
  }

  /**
   * Focus stays in the panel when the focused thread can no longer move (done, or waiting for a
   * lock): on the next thread that can, else on Undo.
   * @param {number} at
   */
  function keepFocus(at) {
    const buttons = /** @type {HTMLButtonElement[]} */ ([...threads.querySelectorAll('button')]);
    const movable = buttons
      .slice(at)
      .concat(buttons.slice(0, at))
      .find((b) => !b.disabled);
    (movable ?? undo).focus();
  }

  /** @param {KeyboardEvent} e */
  function keys(e) {
    if (e.target instanceof HTMLSelectElement) return;
    const inThreads = threads.contains(/** @type {Node} */ (e.target));
    if (/^[1-9]$/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) {
      move(Number(e.key) - 1);
    } else if (e.key === 'Backspace' || ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z')) {
      back();
    } else if (
      inThreads &&
      (e.key === 'ArrowRight' || e.key === 'ArrowDown' || e.key === 'ArrowLeft' || e.key === 'ArrowUp')
    ) {
      const buttons = [...threads.querySelectorAll('button')];
      focusThread(
        buttons.indexOf(/** @type {HTMLButtonElement} */ (e.target)),
        e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : -1,
      );
    } else {
      return;
    }
    e.preventDefault();
  }
}
