// The code that runs (Rust, straight from the topic's source file) and its Python equivalent,
// highlighted by highlight.js (it escapes the text itself; we never build HTML). Both are below the
// fold: the page loads this module, the texts and the highlighter once a first run can start.

import { h, useStylesheet } from './dom.js';
import { withTexts } from './texts.js';

useStylesheet(new URL('../css/code.css', import.meta.url));

/** @typedef {typeof import('../vendor/highlight/core.min.js').default} Highlighter */

/** @type {Promise<Highlighter> | null} */
let highlighter = null;
function loadHighlighter() {
  highlighter ??= Promise.all([
    import('../vendor/highlight/core.min.js'),
    import('../vendor/highlight/rust.min.js'),
    import('../vendor/highlight/python.min.js'),
  ]).then(([{ default: hljs }, { default: rust }, { default: python }]) => {
    hljs.registerLanguage('rust', rust);
    hljs.registerLanguage('python', python);
    return hljs;
  });
  return highlighter;
}

/**
 * Tabs "Rust (runs here)" and "Python equivalent", keyboard operable; an embed may show only one.
 * @param {import('./types.js').Topic} topic
 * @param {Shown} [shown]
 */
export function codeView(topic, shown = { rust: true, python: true }) {
  return withTexts(topic, 'code-view', async (texts) => [...tabsView(texts, await loadHighlighter(), topic.id, shown)]);
}

/**
 * The packages a Python program needs, from its `# pip install ...` comments.
 * @param {string} python
 * @returns {string[]}
 */
export function pipPackages(python) {
  const names = [...python.matchAll(/pip install ([A-Za-z0-9 ._-]+)/g)].flatMap((m) => m[1].trim().split(/\s+/));
  return [...new Set(names)].filter(Boolean);
}

/**
 * Copy and Download buttons (and for Python, the pip line it needs) above one code panel.
 * @param {{ id: string, code: string, file: string }} tab
 */
function toolbar(tab) {
  const status = h('span', { class: 'code-status', role: 'status' });
  const copy = h('button', {
    type: 'button',
    class: 'button',
    text: 'Copy',
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(tab.code);
        status.textContent = 'Copied.';
      } catch {
        status.textContent = 'The browser did not allow copying: select the code and copy it.';
      }
    },
  });
  const download = h('button', {
    type: 'button',
    class: 'button',
    text: `Download ${tab.file.slice(tab.file.lastIndexOf('.'))}`,
    onclick: () => {
      const url = URL.createObjectURL(new Blob([tab.code], { type: 'text/plain' }));
      const link = h('a', { href: url, download: tab.file, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
  });
  const packages = tab.id === 'python' ? pipPackages(tab.code) : [];
  const pip = packages.length
    ? h('p', { class: 'pip' }, 'Needs packages: ', h('code', { text: `pip install ${packages.join(' ')}` }))
    : null;
  return [h('div', { class: 'code-tools' }, copy, download, status), pip];
}

/** @typedef {{rust: boolean, python: boolean}} Shown which tabs an embed shows */

/**
 * @param {import('./types.js').Texts} texts
 * @param {Highlighter} hljs
 * @param {string} id the topic's
 * @param {Shown} shown
 */
function tabsView(texts, hljs, id, shown) {
  const base = id.replaceAll('-', '_');
  /** @type {{id: keyof Shown, label: string, code: string, file: string}[]} */
  const all = [
    { id: 'rust', label: 'Rust (the code that runs)', code: texts.code, file: `${base}.rs` },
    { id: 'python', label: 'Python equivalent', code: texts.python, file: `${base}.py` },
  ];
  const tabs = all.filter((tab) => shown[tab.id]);
  const list = h('div', { role: 'tablist', class: 'tabs', 'aria-label': 'Code' });
  const panels = tabs.map((tab) => {
    const code = h('code', { class: `language-${tab.id}`, text: tab.code });
    hljs.highlightElement(code);
    // The code scrolls, so it takes focus itself (arrow keys scroll it); the panel holds buttons.
    return h(
      'div',
      { role: 'tabpanel', id: `code-${tab.id}`, 'aria-labelledby': `tab-${tab.id}`, class: 'code-panel' },
      ...toolbar(tab),
      h('pre', { tabindex: '0', role: 'region', 'aria-label': tab.label }, code),
    );
  });
  const buttons = tabs.map((tab, i) =>
    h('button', {
      type: 'button',
      role: 'tab',
      id: `tab-${tab.id}`,
      'aria-controls': `code-${tab.id}`,
      text: tab.label,
      onclick: () => select(i),
      onkeydown: (/** @type {KeyboardEvent} */ e) => arrows(e, i),
    }),
  );
  /** @param {number} i */
  function select(i) {
    buttons.forEach((b, j) => {
      b.setAttribute('aria-selected', String(i === j));
      b.tabIndex = i === j ? 0 : -1;
      panels[j].hidden = i !== j;
    });
  }
  /** @param {KeyboardEvent} event @param {number} i */
  function arrows(event, i) {
    /** @type {Record<string, number>} */
    const steps = { ArrowRight: 1, ArrowLeft: -1 };
    const step = steps[event.key];
    if (!step) return;
    const next = (i + step + tabs.length) % tabs.length;
    select(next);
    buttons[next].focus();
  }
  list.append(...buttons);
  select(0);
  return [list, ...panels];
}
