// Building DOM safely: every piece of text becomes a text node, never HTML.

/** @typedef {Node | string | number | null | undefined | false} Child a child to append: null, undefined and false add nothing */

/**
 * Creates an element. `attrs` keys: `class`, `text`, `on<event>` handlers, `dataset`, boolean
 * and string attributes. Children may be nodes, strings (as text) or null, or lists of them.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

const SVG = 'http://www.w3.org/2000/svg';

/**
 * Creates an SVG element.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG, tag), attrs, children);
}

/**
 * @template {Element} T
 * @param {T} element
 * @param {Record<string, any>} attrs
 * @param {any[]} children
 * @returns {T}
 */
function fill(element, attrs, children) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') element.textContent = String(value);
    else if (key === 'dataset')
      Object.assign(/** @type {HTMLElement} */ (/** @type {unknown} */ (element)).dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/**
 * A box that scrolls sideways when its content is wide (a table on a narrow screen): focusable and
 * named, so it can be scrolled by keyboard and a screen reader says what it holds.
 * @param {string} label
 * @param {...(Node | null | undefined | false)} children
 */
export function scrollBox(label, ...children) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label }, ...children);
}

/**
 * A CSS custom property's colour as [r, g, b], resolved for the current theme (the properties
 * hold light-dark() pairs, which only an element's computed colour resolves).
 * @param {string} name
 * @returns {number[]}
 */
export function cssColour(name) {
  const probe = h('span', { hidden: true });
  probe.style.color = `var(${name})`;
  document.body.append(probe);
  const channels = (getComputedStyle(probe).color.match(/[\d.]+/g) ?? ['0', '0', '0']).slice(0, 3).map(Number);
  probe.remove();
  return channels;
}

/** The same, as CSS text for a canvas: `rgb(r g b)`. */
export const cssRgb = (/** @type {string} */ name) => `rgb(${cssColour(name).join(' ')})`;

/**
 * A closed <details> whose content is built when first opened (most readers never open it).
 * @param {string} className
 * @param {string} summary
 * @param {() => Node} build
 */
export function lazyDetails(className, summary, build) {
  const details = /** @type {HTMLDetailsElement} */ (
    h('details', { class: className }, h('summary', { text: summary }))
  );
  details.addEventListener('toggle', () => {
    if (details.open && details.childElementCount === 1) details.append(build());
  });
  return details;
}

/**
 * Removes every child of `element` and appends `children`.
 * @param {Element} element
 * @param {...(Node | string | null | undefined | false | (Node | string | null | undefined | false)[])} children
 */
export function replace(element, ...children) {
  element.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/**
 * Formats milliseconds for people: 0.42 ms, 12.3 ms, 1.25 s.
 * @param {number | null | undefined} value
 */
export function ms(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

/**
 * Lets the page run (input, painting) before the next slice of work.
 * @returns {Promise<void>}
 */
export function pause() {
  // scheduler.yield is too new for TypeScript's DOM types (and missing in some browsers).
  const scheduler = /** @type {{scheduler?: {yield?: () => Promise<void>}}} */ (globalThis).scheduler;
  return scheduler?.yield ? scheduler.yield() : new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Adds the stylesheet at `url` to the page, once: a view's own styles load with its module, out
 * of the first load (the page's links hold only what shows before a run).
 * @param {URL} url
 */
export function useStylesheet(url) {
  if (document.querySelector(`link[rel="stylesheet"][href="${url.href}"]`)) return;
  document.head.append(h('link', { rel: 'stylesheet', href: url.href }));
}
