// How a page is shown, read from its URL next to the topic and its parameters: the theme (on
// every page), and in the embed which panels show, a compact layout, a run on load, and which
// origins may drive it. These keys are never topic parameters.

/** The panels an embed can show, in page order: `panels=results,timeline` shows only those. */
export const PANELS = ['explanation', 'params', 'results', 'timeline', 'history', 'code', 'python'];
const THEMES = ['light', 'dark', 'auto'];
export const DISPLAY_KEYS = ['theme', 'panels', 'compact', 'autorun', 'origin', 'prompt'];

/**
 * @typedef {{theme: string, panels: Set<string>, compact: boolean, autorun: boolean, origins: string[] | null, prompt: string | null, problems: string[]}} Display
 * `origins` null: any page may drive the embed; [] (a bad `origin=`): none may. `prompt`: the one
 * prediction prompt to ask (predict.js), null: all the topic's.
 */

/** @returns {Display} */
export function readDisplay(location = window.location) {
  const query = new URLSearchParams(location.search);
  /** @type {string[]} */
  const problems = [];
  const ignored = (/** @type {string} */ key, /** @type {string} */ why) =>
    problems.push(`Ignored ${key}=${shorten(query.get(key) ?? '')}: ${why}.`);

  let theme = query.get('theme') ?? 'auto';
  if (!THEMES.includes(theme)) {
    ignored('theme', `use ${THEMES.join(', ')}`);
    theme = 'auto';
  }

  let panels = new Set(PANELS);
  if (query.has('panels')) {
    const asked = (query.get('panels') ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const unknown = asked.filter((p) => !PANELS.includes(p));
    if (unknown.length)
      problems.push(
        `Unknown panel${unknown.length > 1 ? 's' : ''} ${unknown.map(shorten).join(', ')} in panels=: the panels are ${PANELS.join(', ')}.`,
      );
    const known = asked.filter((p) => PANELS.includes(p));
    if (known.length) panels = new Set(known);
  }

  let origins = null;
  if (query.has('origin')) {
    const given = query
      .getAll('origin')
      .flatMap((o) => o.split(','))
      .map((o) => o.trim())
      .filter(Boolean);
    const bad = given.filter((o) => !isOrigin(o));
    origins = bad.length ? [] : given;
    // Failing closed: a typo must not open the embed to every page.
    if (bad.length)
      problems.push(
        `origin=${shorten(bad[0])} is not an origin like https://course.example (no path), so no page may drive this embed.`,
      );
  }

  return {
    theme,
    panels,
    compact: flag(query, 'compact', ignored),
    autorun: flag(query, 'autorun', ignored),
    origins,
    prompt: query.get('prompt'),
    problems,
  };
}

/**
 * `key`, `key=1` or `key=true` is on; `key=0`, `key=false` or no key is off.
 * @param {URLSearchParams} query
 * @param {string} key
 * @param {(key: string, why: string) => void} ignored
 */
function flag(query, key, ignored) {
  if (!query.has(key)) return false;
  const value = query.get(key);
  if (['', '1', 'true'].includes(value ?? '')) return true;
  if (!['0', 'false'].includes(value ?? '')) ignored(key, 'use 1 or 0');
  return false;
}

/** @param {string} text */
function isOrigin(text) {
  try {
    return new URL(text).origin === text;
  } catch {
    return false;
  }
}

const shorten = (/** @type {string} */ text) => (text.length > 40 ? `${text.slice(0, 40)}…` : text);

/**
 * Sets the theme (CSS follows `prefers-color-scheme` unless it is light or dark) and the compact layout.
 * @param {Display} display
 */
export function applyDisplay(display, root = document.documentElement) {
  root.dataset.theme = display.theme;
  root.toggleAttribute('data-compact', display.compact);
}

/** The display keys of the current address, to keep in the address when the form rewrites it. */
export function displayQuery(location = window.location) {
  const query = new URLSearchParams(location.search);
  const kept = new URLSearchParams();
  for (const [key, value] of query) if (DISPLAY_KEYS.includes(key)) kept.append(key, value);
  return kept;
}
