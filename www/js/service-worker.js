// Registers the playground's service worker (www/sw.js): the built-in simulated network that the
// async topics fetch from, offline caching, and isolation headers on static hosts.
//
// Call it before starting the engine worker: a worker is controlled by a service worker only if
// one was in charge when the worker was created, and the engine's fetch calls must reach it.
// (If they don't, the Rust side notices the missing `x-playground-sim` header and simulates the
// network in its own process instead, so the topics still run, without real fetch calls.)

/** Where sw.js is: the site root, next to index.html; its scope is that directory. */
const SW_URL = new URL('../sw.js', import.meta.url);

/**
 * Registers sw.js and resolves once this page is controlled by it.
 * Resolves to false when service workers are unavailable here or control does not come in time.
 * @param {{timeoutMs?: number}} [options]
 * @returns {Promise<boolean>}
 */
export function registerServiceWorker({ timeoutMs = 5000 } = {}) {
  registering = register(timeoutMs);
  return registering;
}

/** @type {Promise<boolean> | null} the last registration asked for, under way or done */
let registering = null;

/** @param {number} timeoutMs */
async function register(timeoutMs) {
  // Missing on plain http: pages other than localhost (not a secure context), in some private
  // windows, and in some browsers inside third-party iframes.
  if (!('serviceWorker' in navigator)) return false;
  const container = navigator.serviceWorker;
  /** @type {ServiceWorkerRegistration} */
  let registration;
  try {
    // An ES module service worker (sw.js uses import.meta). Browsers without module service
    // workers throw here; so does a third-party iframe whose storage is blocked (SecurityError).
    registration = await container.register(SW_URL, { type: 'module' });
  } catch (error) {
    console.warn('service worker not registered:', error);
    return false;
  }
  if (container.controller) return true;

  const controlled = new Promise((resolve) =>
    container.addEventListener('controllerchange', () => resolve(true), { once: true }),
  );
  const gaveUp = new Promise((resolve) => setTimeout(() => resolve(false), timeoutMs));

  // First visit: the page was loaded before any service worker existed, so nothing controls it
  // until the new worker activates and calls clients.claim() ("controllerchange" then fires).
  // Shift+Reload: the browser deliberately bypasses the service worker for this page load; the
  // worker is active but will not claim by itself, so we ask it to (see the "message" handler).
  const ready = container.ready.then((active) => {
    if (container.controller) return true;
    active.active?.postMessage({ type: 'claim' });
    return controlled;
  });
  const outcome = await Promise.race([ready, controlled, gaveUp]);
  if (!outcome) console.warn('service worker registered but not in control of this page yet', registration?.scope);
  return Boolean(outcome);
}

/** @type {Promise<boolean> | null} the service worker's answer to "warm", asked once */
let warmed = null;

/**
 * Asks the controlling service worker to load its wasm (the plain build), so that a simulated
 * request's measured time holds no start-up. Resolves to true once it has, or to false without
 * a service worker or after `timeoutMs`.
 * @param {{timeoutMs?: number}} [options]
 * @returns {Promise<boolean>}
 */
export async function warmServiceWorker({ timeoutMs = 5000 } = {}) {
  // A first visit registers once a first run can start: a run that comes sooner waits for its
  // control, so the service worker's wasm does not compile beside the run's first mode.
  await registering;
  const container = navigator.serviceWorker;
  const controller = container?.controller;
  if (!controller) return false;
  warmed ??= new Promise((resolve) => {
    container.addEventListener('message', (event) => event.data?.type === 'warmed' && resolve(event.data.ok === true));
    container.startMessages();
    controller.postMessage({ type: 'warm' });
    // A service worker that does not answer in time is not waited for again.
    setTimeout(() => resolve(false), timeoutMs);
  });
  return warmed;
}

/**
 * Warms the service worker once the page has been up 2 s and is idle: its wasm (~160 KB gzip)
 * is never part of the first load, and its compiling never takes a core from a first run (a
 * run asks for it itself, before it starts). `body[data-service-worker="warm"]` says when.
 */
export function warmServiceWorkerLater() {
  const warm = () =>
    warmServiceWorker().then((ok) => {
      if (ok) document.body.dataset.serviceWorker = 'warm';
    });
  const whenIdle = () => ('requestIdleCallback' in window ? requestIdleCallback(warm, { timeout: 3000 }) : warm());
  setTimeout(whenIdle, Math.max(0, 2000 - performance.now()));
}

// Note for cross-origin isolation on static hosts: the headers sw.js adds only apply to
// responses it serves. The document of a first visit came straight from the server, so that page
// is not isolated; it becomes isolated on the next load (a reload after the first control, if
// the page wants threads at once). Check `crossOriginIsolated` rather than assuming.
