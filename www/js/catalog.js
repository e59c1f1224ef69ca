// The catalog the build writes (src/bin/export_static.rs): the chapters, the engine part that runs
// each topic, and every topic's title, form and modes.

/** @typedef {import('./types.js').Catalog} Catalog */

/** @type {Promise<Catalog> | null} */
let loaded = null;

/** Fetches the catalog, once per page. */
export function loadCatalog() {
  loaded ??= fetch(new URL('../pkg/catalog.json', import.meta.url)).then(async (response) => {
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return sizedForThisMachine(await response.json(), navigator.hardwareConcurrency || 2);
  });
  return loaded;
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
