// Which build the engine runs here: the threaded one where a shared wasm memory can go to another
// worker, the plain one elsewhere. The page asks too, to fetch and compile that build while the
// engine worker is not started yet (engine-client.js).

/** @returns {'threads' | 'plain'} */
export function engineFlavor() {
  return canShareMemory() ? 'threads' : 'plain';
}

/**
 * Can a shared wasm memory go to another worker? Not without cross-origin isolation, and not in
 * WebKitGTK 2.50 even with it (postMessage throws DataCloneError; its SharedArrayBuffer global is
 * hidden), where the threaded build would load and then never start a thread.
 */
function canShareMemory() {
  if (!self.crossOriginIsolated) return false;
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }));
    return true;
  } catch {
    return false;
  } finally {
    port1.close();
    port2.close();
  }
}

/**
 * The engine parts whose topics fetch (from the simulated network www/sw.js serves): the plain
 * build of the first exports that service, and sw.js imports it.
 */
export const NETWORK_PARTS = ['network', 'scraper'];

/**
 * Where the build that runs `part` lives under pkg/, for `flavor`: both builds come in parts
 * (`part`, from the catalog).
 * @param {'threads' | 'plain'} flavor
 * @param {string} part
 */
export const buildOf = (flavor, part) => `${flavor}/${part}`;

/**
 * The glue of that build; its wasm is next to it.
 * @param {'threads' | 'plain'} flavor
 * @param {string} part
 */
export const glueUrl = (flavor, part) => new URL(`../pkg/${buildOf(flavor, part)}/playground.js`, import.meta.url).href;
