// The playground's service worker (an ES module: register it with {type: 'module'}).
//
// 1. The simulated network: requests under `sim/` (anywhere below this worker's scope, e.g.
//    `sim/delay/2` or `engine/sim/delay/2` as resolved from the engine worker) are answered here,
//    by the same Rust function the native tests use (`respond` in src/engines/net.rs, exported
//    as `sim_respond` from the plain wasm build's network part). So topics make real `fetch`
//    calls that work offline, on a static host and in an embed.
// 2. The app's own files (APP_PATHS) go to the network; the ones this build lists
//    (pkg/app-files.json, tools/app-files.mjs) are kept in a cache named by the build's version,
//    unless the server says `no-store`, and served from it when the network is gone, so the
//    playground works offline after one visit. Every other request (another app's pages at the
//    same origin, other origins) is left to the browser: we never answer it.
// 3. Responses made here carry the cross-origin isolation headers (COOP/COEP/CORP), so a static
//    host that cannot set headers still gets an isolated page (after a reload through us).

// The plain build's network part exports it (its topics are the ones that use the network): the
// other parts leave the simulated service out, which a first load of theirs does not need. Its
// wasm is instantiated here without its wasm-bindgen glue (`sim` in src/web.rs): the glue would
// be a static import, fetched on every registration, and a first load of a network topic waits
// for the registration.
const SIM_WASM = new URL('./pkg/plain/network/playground_bg.wasm', import.meta.url);

/** Our caches' names start with this, then the build's version. */
const CACHE_PREFIX = 'playground-';
/** The app's files and folders, relative to our scope: the only requests we answer ('' is the index). */
const APP_PATHS =
  /^(|index\.html|embed\.html|diagnostics\.html|embed\.js|favicon\.svg|(css|js|engine|pkg|vendor)\/.*)$/;
const SIM_HEADER = 'x-playground-sim';
/** A blocking request's own timeout (ms), sent along because WebKit sometimes never fires it. */
const GIVE_UP_HEADER = 'x-playground-give-up-ms';
/** How long past that timeout we close the request ourselves. */
const GIVE_UP_GRACE_MS = 100;
/** How long the host that never answers keeps a request open when nobody aborts it. */
const BLACKHOLE_MS = 120_000;

/** @typedef {{memory: WebAssembly.Memory, sim_buffer: (len: number) => number, sim_respond: (len: number) => number}} Sim */

/** @type {Promise<Sim> | null} */
let ready = null;

/** Loads the plain wasm build (its network part) once (top-level await is not allowed in a service worker). */
function engine() {
  ready ??= fetch(SIM_WASM)
    .then((response) => (response.ok ? response.arrayBuffer() : Promise.reject(new Error(`${response.status}`))))
    .then((bytes) => WebAssembly.compile(bytes))
    .then(async (module) => /** @type {Sim} */ ((await WebAssembly.instantiate(module, unused(module))).exports))
    .catch((error) => {
      ready = null;
      throw error;
    });
  return ready;
}

/**
 * The module's imports (the glue's, for the engine): the simulated service calls none of them,
 * so each one here throws.
 * @param {WebAssembly.Module} module
 */
function unused(module) {
  /** @type {Record<string, Record<string, () => never>>} */
  const imports = {};
  for (const { module: from, name } of WebAssembly.Module.imports(module)) {
    imports[from] ??= {};
    imports[from][name] = () => {
      throw new Error(`${from}.${name} is not available in the service worker`);
    };
  }
  return imports;
}

/**
 * The simulated service's answer to `method` on `path` (UTF-8 through the module's memory).
 * @param {Sim} sim
 * @param {string} method
 * @param {string} path
 * @returns {{status: number, content_type: string, body: string, delay_ms: number, never_answers: boolean}}
 */
function simRespond(sim, method, path) {
  const request = new TextEncoder().encode(`${method} ${path}`);
  // Each call may grow the memory (a new buffer): it is read after the call.
  const into = sim.sim_buffer(request.length) >>> 0;
  new Uint8Array(sim.memory.buffer, into, request.length).set(request);
  const length = sim.sim_respond(request.length) >>> 0;
  const at = sim.sim_buffer(0) >>> 0; // the answer, where the request was or moved
  return JSON.parse(new TextDecoder().decode(new Uint8Array(sim.memory.buffer, at, length)));
}

self.addEventListener('install', () => {
  // Take over from an older version at once instead of waiting for every tab to close. The wasm
  // is not loaded here: that would hold up the page's first load (it waits for our control).
  self.skipWaiting();
});

/** @type {Promise<{cache: string, files: Set<string>} | null> | null} */
let appFiles = null;

/** This build's list of the app's files and its cache's name (null, so nothing cached, if it cannot be read). */
function listed() {
  appFiles ??= fetch(new URL('./pkg/app-files.json', self.registration.scope), { cache: 'no-store' })
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`${response.status}`))))
    .then((/** @type {{version: string, files: string[]}} */ list) => ({
      cache: CACHE_PREFIX + list.version,
      files: new Set(list.files),
    }))
    .catch(() => {
      appFiles = null;
      return null;
    });
  return appFiles;
}

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      // Control the pages that are already open (the first visit), not only the next ones.
      await self.clients.claim();
      // Then delete our own caches of older builds (not all of them if this build's list cannot
      // be read); other apps of this origin keep theirs.
      const current = (await listed())?.cache;
      if (!current) return;
      for (const name of await caches.keys())
        if (name.startsWith(CACHE_PREFIX) && name !== current) await caches.delete(name);
    })(),
  );
});

// A page loaded with Shift+Reload is not controlled even though we are active; it asks us to claim it.
// The page says "warm" before its first run, or once it has been up a while: load the wasm then,
// before the first simulated request needs it, so that request's measured time holds no start-up.
self.addEventListener('message', (event) => {
  if (event.data?.type === 'claim') event.waitUntil(self.clients.claim());
  if (event.data?.type === 'warm') {
    const client = /** @type {Client | null} */ (event.source);
    event.waitUntil(
      engine().then(
        () => client?.postMessage({ type: 'warmed', ok: true }),
        () => client?.postMessage({ type: 'warmed', ok: false }),
      ),
    );
  }
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const sim = simPath(url.pathname);
  if (sim !== null) {
    event.respondWith(simulate(request, sim + url.search));
    return;
  }
  const path = appPath(url.pathname);
  if (path === null) return;
  // A quirk of Chromium: these requests fail when a service worker forwards them.
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(passThrough(event, request, path));
});

/**
 * The path of one of the app's own files relative to our scope, or null for anything else.
 * @param {string} pathname
 */
function appPath(pathname) {
  const scope = new URL(self.registration.scope).pathname;
  if (!pathname.startsWith(scope)) return null;
  const rel = pathname.slice(scope.length);
  return APP_PATHS.test(rel) && !rel.split('/').includes('..') ? rel || 'index.html' : null;
}

/**
 * `sim/...` relative to the scope, or null when the path is not part of the simulated service.
 * @param {string} pathname
 */
function simPath(pathname) {
  const scope = new URL(self.registration.scope).pathname;
  if (!pathname.startsWith(scope)) return null;
  const rel = pathname.slice(scope.length);
  if (rel === 'sim' || rel.startsWith('sim/')) return rel;
  const at = rel.indexOf('/sim/');
  return at >= 0 ? rel.slice(at + 1) : null;
}

/**
 * Answers one simulated request after the delay the Rust service asks for.
 * @param {Request} request
 * @param {string} path
 */
async function simulate(request, path) {
  let sim;
  try {
    sim = await engine();
  } catch (error) {
    // No simulation header: the page's Rust code sees that and simulates in its own process.
    return new Response(`the simulated network could not start: ${error}`, { status: 503 });
  }
  const answer = simRespond(sim, request.method, path);
  const wait = answer.never_answers ? BLACKHOLE_MS : answer.delay_ms;
  // A synchronous request from a worker in WebKit sometimes outlives its timeout: it is closed
  // here a little after it, as the client would have given up (a network error, read as timed out).
  const giveUp = Number(request.headers.get(GIVE_UP_HEADER) ?? NaN) + GIVE_UP_GRACE_MS;
  const waited = Number.isFinite(giveUp) && giveUp < wait ? giveUp : wait;
  const aborted = await sleep(waited, request.signal);
  if (aborted || waited < wait) return Response.error();
  const headers = isolate(new Headers({ 'Content-Type': answer.content_type, 'Cache-Control': 'no-store' }), false);
  headers.set(SIM_HEADER, '1');
  const nullBody = [204, 205, 304].includes(answer.status) || request.method === 'HEAD';
  return new Response(nullBody ? null : answer.body, { status: answer.status, headers });
}

/**
 * Waits `ms`, or until the page gives up on the request (its AbortController). True if aborted.
 * @param {number} ms
 * @param {AbortSignal} signal
 */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(true);
    const timer = setTimeout(() => resolve(false), Math.max(0, ms));
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Network first; the build's listed files are cached on the way (unless the server says
 * `no-store`) and served from the cache offline.
 * @param {FetchEvent} event
 * @param {Request} request
 * @param {string} path the app file's path relative to our scope
 */
async function passThrough(event, request, path) {
  const cacheable = request.method === 'GET';
  let response;
  try {
    response = await fetch(request);
    // WebKit revalidates a worker's script (If-None-Match) through us and fails to load the
    // worker when the server's 304 comes back through a service worker: every other Worker of the
    // same script failed to start ("the engine failed to load"). A 304 here is fetched again,
    // whole and unconditional.
    if (response.status === 304 && cacheable) response = await fetch(unconditional(request));
    const noStore = /(^|,)\s*no-store\s*(,|$)/i.test(response.headers.get('Cache-Control') ?? '');
    if (cacheable && !noStore && response.ok && response.type === 'basic') {
      const copy = response.clone();
      event.waitUntil(
        listed()
          .then((list) =>
            list?.files.has(path) ? caches.open(list.cache).then((cache) => cache.put(request, copy)) : undefined,
          )
          .catch(() => undefined),
      );
    }
  } catch (error) {
    // Offline: from our own caches only (other apps of this origin have theirs).
    const cached = cacheable ? await fromOurCaches(request) : undefined;
    if (!cached) throw error;
    response = cached;
  }
  if (response.status === 0 || response.type === 'opaqueredirect') return response;
  const document = request.destination === 'document' || request.destination === 'iframe';
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: isolate(new Headers(response.headers), document),
  });
}

/**
 * `request` without its conditional headers, bypassing the HTTP cache, so that it is answered whole.
 * @param {Request} request a same-origin GET
 */
function unconditional(request) {
  const headers = new Headers(request.headers);
  for (const name of ['If-None-Match', 'If-Modified-Since']) headers.delete(name);
  return new Request(request.url, { headers, cache: 'reload', credentials: request.credentials, mode: 'same-origin' });
}

/**
 * The newest answer to `request` in our caches (a navigation matches whatever its query).
 * @param {Request} request
 */
async function fromOurCaches(request) {
  for (const name of (await caches.keys()).filter((n) => n.startsWith(CACHE_PREFIX)).reverse()) {
    const cached = await (await caches.open(name)).match(request, { ignoreSearch: request.mode === 'navigate' });
    if (cached) return cached;
  }
  return undefined;
}

/**
 * Adds the isolation headers a response lacks (the server's own values win). A document gets
 * CORP cross-origin so that an isolated course page may still embed it in an iframe.
 * @param {Headers} headers
 * @param {boolean} document
 */
function isolate(headers, document) {
  const wanted = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': document ? 'cross-origin' : 'same-origin',
  };
  for (const [name, value] of Object.entries(wanted)) if (!headers.has(name)) headers.set(name, value);
  return headers;
}
