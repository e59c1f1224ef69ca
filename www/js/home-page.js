// The home page and the topic list: every chapter's topics, from the catalog. A link to a topic
// stops the run in progress (run-controller.js) and shows it without reloading.

import { h, replace } from './dom.js';

/**
 * @typedef {import('./types.js').Topic} Topic
 * @typedef {import('./boot.js').Page} Page
 */

/**
 * @param {Page} page
 * @param {() => Promise<void>} route shows what the URL names
 */
export function homePage(page, route) {
  function renderNav() {
    const nav = document.getElementById('topics');
    if (!nav) return;
    const groups = page.catalog.chapters.map((chapter) => {
      const topics = page.catalog.topics.filter((t) => t.chapter === chapter);
      if (!topics.length) return null;
      return h(
        'section',
        {},
        h('h2', { text: chapter }),
        h(
          'ul',
          {},
          ...topics.map((t) =>
            h(
              'li',
              {},
              h('a', {
                href: `?topic=${encodeURIComponent(t.id)}`,
                dataset: { topic: t.id },
                text: t.title,
                onclick: (/** @type {MouseEvent} */ e) => navigate(e, t),
              }),
            ),
          ),
        ),
      );
    });
    replace(nav, ...groups);
  }

  /** @param {MouseEvent} event @param {Topic} topic */
  function navigate(event, topic) {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    if (page.runs.running) page.runs.stop();
    history.pushState(null, '', `?topic=${encodeURIComponent(topic.id)}`);
    route();
  }

  /** @param {string | null} unknownId */
  function renderHome(unknownId) {
    document.title = 'Concurrency Playground';
    const notice = unknownId
      ? h('p', {
          class: 'notice',
          role: 'alert',
          text: `There is no topic “${unknownId.slice(0, 60)}”. Pick one below.`,
        })
      : null;
    const cards = page.catalog.chapters.map((chapter) => {
      const topics = page.catalog.topics.filter((t) => t.chapter === chapter);
      if (!topics.length) return null;
      return h(
        'section',
        { class: 'chapter' },
        h('h2', { text: chapter }),
        h(
          'ul',
          { class: 'cards' },
          ...topics.map((t) =>
            h(
              'li',
              {},
              h(
                'a',
                { href: `?topic=${t.id}`, onclick: (/** @type {MouseEvent} */ e) => navigate(e, t) },
                h('strong', { text: t.title }),
              ),
              h('p', { text: t.summary }),
            ),
          ),
        ),
      );
    });
    replace(
      page.app,
      notice,
      h('h1', { text: 'Concurrency Playground' }),
      h('p', {
        class: 'lead',
        text: 'Real threads, isolated workers and async tasks, compiled from Rust to WebAssembly and run in your browser. Pick a topic, change its parameters, press Run, and watch what ran where.',
      }),
      ...cards,
    );
  }

  return { renderNav, renderHome };
}
