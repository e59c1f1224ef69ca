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
 * The glue of `flavor`'s build; its wasm is next to it. The threaded build comes in parts
 * (`part`, from the catalog); the plain build is one, with every part.
 * @param {'threads' | 'plain'} flavor
 * @param {string} [part]
 */
export const glueUrl = (flavor, part) => new URL(flavor === 'threads' ? `../pkg/threads/${part}/playground.js` : '../pkg/plain/playground.js', import.meta.url).href;

/** The build `part` runs in, for `flavor`: the plain build is the same for every part. */
export const buildOf = (/** @type {'threads' | 'plain'} */ flavor, /** @type {string} */ part) => (flavor === 'threads' ? part : 'plain');
