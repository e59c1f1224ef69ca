// The code that runs (Rust, straight from the topic's source file) and its Python equivalent,
// highlighted by highlight.js (it escapes the text itself; we never build HTML). Both the texts
// and the highlighter load after the page is usable: they are below the fold.

import { h } from './dom.js';
import { withTexts } from './texts.js';

/** @type {Promise<any> | null} */
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

/** Tabs "Rust (runs here)" and "Python equivalent", keyboard operable. */
export function codeView(topic) {
  return withTexts(topic, 'code-view', async (texts) => [...tabsView(texts, await loadHighlighter())]);
}

function tabsView(texts, hljs) {
  const tabs = [
    { id: 'rust', label: 'Rust (the code that runs)', code: texts.code },
    { id: 'python', label: 'Python equivalent', code: texts.python },
  ];
  const list = h('div', { role: 'tablist', class: 'tabs', 'aria-label': 'Code' });
  const panels = tabs.map((tab) => {
    const code = h('code', { class: `language-${tab.id}`, text: tab.code });
    hljs.highlightElement(code);
    return h('div', { role: 'tabpanel', id: `code-${tab.id}`, 'aria-labelledby': `tab-${tab.id}`, tabindex: '0', class: 'code-panel' }, h('pre', {}, code));
  });
  const buttons = tabs.map((tab, i) =>
    h('button', { type: 'button', role: 'tab', id: `tab-${tab.id}`, 'aria-controls': `code-${tab.id}`, text: tab.label, onclick: () => select(i), onkeydown: (e) => arrows(e, i) }),
  );
  function select(i) {
    buttons.forEach((b, j) => {
      b.setAttribute('aria-selected', String(i === j));
      b.tabIndex = i === j ? 0 : -1;
      panels[j].hidden = i !== j;
    });
  }
  function arrows(event, i) {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = (i + step + tabs.length) % tabs.length;
    select(next);
    buttons[next].focus();
  }
  list.append(...buttons);
  select(0);
  return [list, ...panels];
}
