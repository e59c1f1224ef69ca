// The catalog the build writes (src/bin/export_static.rs): the chapters, the engine part that runs
// each topic, and every topic's title, form and modes.

/** @typedef {import('./types.js').Catalog} Catalog */

/** @type {Promise<Catalog> | null} */
let loaded = null;

/** Fetches the catalog, once per page. */
export function loadCatalog() {
  loaded ??= fetch(new URL('../pkg/catalog.json', import.meta.url)).then((response) => {
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  });
  return loaded;
}

/**
 * The engine part that runs the topic `id` (the first topic's for no topic or an unknown one,
 * `__proto__` or `toString` too: `id` comes from the URL).
 * @param {Catalog} catalog
 * @param {string | null} id
 */
export function partOf(catalog, id) {
  const known = id !== null && Object.hasOwn(catalog.parts, id) ? id : catalog.topics[0]?.id;
  return catalog.parts[known];
}
