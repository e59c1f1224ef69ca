// The catalog the build writes (src/bin/export_static.rs): the chapters, the engine part that runs
// each topic, and every topic's title, form and modes.

/** @typedef {import('./types.js').Catalog} Catalog */

/**
 * A JSON file under pkg/.
 * @param {string} path
 */
async function fetchJson(path) {
  const response = await fetch(new URL(`../pkg/${path}`, import.meta.url));
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

const cores = () => navigator.hardwareConcurrency || 2;

/**
 * `load`, called once and its promise shared; a failure is not kept, so the next call tries again
 * (a learner back online, or a server that answered 503 once).
 * @template T
 * @param {() => Promise<T>} load
 * @returns {() => Promise<T>}
 */
function once(load) {
  /** @type {Promise<T> | null} */
  let loading = null;
  return () =>
    (loading ??= load().catch((error) => {
      loading = null;
      throw error;
    }));
}

/** Fetches the topic list (the catalog with each topic's id, title and chapter only), once per page. */
export const loadIndex = once(() => fetchJson('catalog/index.json'));

/** Fetches the whole catalog, once per page. */
export const loadCatalog = once(() =>
  fetchJson('catalog.json').then((catalog) => sizedForThisMachine(catalog, cores())),
);

/**
 * What a first load of the topic `id` needs, a tenth of the whole catalog's bytes: the topic list
 * (ids, titles, chapters; the parts and lessons) with that one topic whole (pkg/catalog/, written
 * by tools/split-static.mjs). The whole catalog for no topic or an unknown one (the home page
 * lists every topic's summary). `isWhole` tells the two apart; `completeCatalog` completes it.
 * @param {string | null} id from the URL
 * @returns {Promise<Catalog>}
 */
export async function loadFirst(id) {
  const list = loadIndex(); // the page preloads it, so it is read either way
  if (id === null) {
    list.catch(() => {});
    return loadCatalog();
  }
  try {
    /** @type {Catalog} */
    const catalog = await list;
    // Only a topic the list has: another one is not asked for (a 404 is a console error).
    if (!Object.hasOwn(catalog.parts, id)) return loadCatalog();
    const topic = await fetchJson(`catalog/${encodeURIComponent(id)}.json`);
    const [whole] = sizedForThisMachine({ ...catalog, topics: [topic] }, cores()).topics;
    return { ...catalog, topics: catalog.topics.map((t) => (t.id === id ? whole : t)) };
  } catch {
    return loadCatalog();
  }
}

/**
 * Whether every topic of `catalog` is whole (not only its id, title and chapter, as `loadFirst` gives them).
 * @param {Catalog} catalog
 */
export const isWhole = (catalog) => catalog.topics.every((t) => t.params);

/**
 * Puts the whole catalog in `page.catalog`, keeping the topics it already has whole (the page
 * shows them: the same objects, already sized for this machine). `loadCatalog` fetches it once,
 * or again if it failed.
 * @param {{catalog: Catalog}} page
 */
export async function completeCatalog(page) {
  const whole = await loadCatalog();
  const have = new Map(page.catalog.topics.filter((t) => t.params).map((t) => [t.id, t]));
  page.catalog = { ...whole, topics: whole.topics.map((t) => have.get(t.id) ?? t) };
}

/**
 * The defaults the schema counts by cores (`per_core`: that many per core; `split_over_cores`: a
 * total shared among them), for this machine's `cores`, within each field's limits; each such
 * field's help says so ("8 = your cores"). Everything after this reads them as the defaults.
 * @param {Catalog} catalog
 * @param {number} cores
 */
export function sizedForThisMachine(catalog, cores) {
  const number = (/** @type {number} */ n) => n.toLocaleString('en-US');
  for (const param of catalog.topics.flatMap((t) => t.params)) {
    if (param.type !== 'int' || (param.per_core === undefined && param.split_over_cores === undefined)) continue;
    const [wanted, how] =
      param.per_core !== undefined
        ? [param.per_core * cores, param.per_core === 1 ? 'your cores' : `${param.per_core} x your ${cores} cores`]
        : [
            Math.round(Number(param.split_over_cores) / cores),
            `${number(Number(param.split_over_cores))} / your ${cores} cores`,
          ];
    const value = Math.min(param.max, Math.max(param.min, wanted));
    param.default = value;
    const said =
      value === wanted
        ? `Default ${number(value)} = ${how}.`
        : `Default ${number(value)}: the limit (${how} would be ${number(wanted)}).`;
    param.help = param.help ? `${param.help} ${said}` : said;
  }
  return catalog;
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

/**
 * A topic's defaults as the page shows them (some follow this machine's cores, above): what Rust
 * is given for the fields a URL or an embedding page leaves out, since its own are for 2 cores.
 * @param {import('./types.js').Topic} topic
 * @returns {Record<string, import('./types.js').JsonValue>}
 */
export function defaultsOf(topic) {
  return Object.fromEntries(topic.params.map((param) => [param.name, param.default]));
}
