// The engine worker's start, apart from its transport (js/engine-client.js) so that js/early.js
// can start it with few modules loaded: the wasm of the engine's part fetched and compiled in the
// page, once per build, and the worker told its part at once.

import { buildOf, engineFlavor, glueUrl } from './flavor.js';

/** @typedef {import('../js/types.js').Caps} Caps */

/** @type {Map<string, Promise<{flavor: Caps['flavor'], module: WebAssembly.Module | null}>>} by build */
const compiled = new Map();

/**
 * Fetches and compiles the wasm of the engine's `part` in the page, once: the page calls this as
 * soon as it knows the part of the topic it shows, while its service worker registers (the engine
 * worker must wait for that), and every engine worker of that part, a restarted one too, gets
 * the compiled module. Null if it fails: the worker then fetches its own, and says what went wrong.
 * @param {string} part
 * @param {Caps['flavor']} [flavor] the build: the one this browser can run, unless the page fell back
 */
export function compileEngine(part, flavor = engineFlavor()) {
  const build = buildOf(flavor, part);
  let compiling = compiled.get(build);
  if (!compiling) {
    compiling = WebAssembly.compileStreaming(fetch(new URL('playground_bg.wasm', glueUrl(flavor, part))))
      .then((module) => ({ flavor, module }))
      .catch(() => ({ flavor, module: null }));
    compiled.set(build, compiling);
  }
  return compiling;
}

/**
 * An engine worker of `part`, told its part at once (its glue loads while the wasm compiles).
 * @param {string} part @param {Caps['flavor']} flavor
 */
export function engineWorker(part, flavor) {
  const worker = new Worker(new URL('engine-worker.js', import.meta.url), { type: 'module', name: 'engine' });
  worker.postMessage({ type: 'part', flavor, part });
  compileEngine(part, flavor).then(({ module }) => worker.postMessage({ type: 'module', module }));
  return worker;
}

/** @type {{part: string, flavor: Caps['flavor'], worker: Worker, heard: Event[], stopListening: () => void} | null} */
let early = null;
/** Whether an `Engine` has started a worker: then no early start. */
let made = false;

/**
 * Starts the engine worker of `part` before the rest of the page has loaded (js/early.js): the
 * first `Engine` adopts it (`adoptEarly`), with what it said meanwhile (its messages would be
 * lost unheard).
 * @param {string} part
 */
export function startEngineEarly(part) {
  if (made || early) return;
  const flavor = engineFlavor();
  const worker = engineWorker(part, flavor);
  /** @type {Event[]} */
  const heard = [];
  const keep = (/** @type {MessageEvent | ErrorEvent} */ event) =>
    heard.push(
      event instanceof MessageEvent
        ? new MessageEvent('message', { data: event.data })
        : new ErrorEvent('error', { message: event.message }),
    );
  worker.addEventListener('message', keep);
  worker.addEventListener('error', keep);
  const stopListening = () => {
    worker.removeEventListener('message', keep);
    worker.removeEventListener('error', keep);
  };
  early = { part, flavor, worker, heard, stopListening };
}

/**
 * The worker `startEngineEarly` started, for the `Engine` that starts a worker of `part` and
 * `flavor` (null: none, or one of another part, ended here); from then on none starts early.
 * @param {string} part @param {Caps['flavor']} flavor
 */
export function adoptEarly(part, flavor) {
  made = true;
  const adopted = early?.part === part && early.flavor === flavor ? early : null;
  early?.stopListening();
  if (early && !adopted) early.worker.terminate();
  early = null;
  return adopted;
}
