// Knowing when a worker is gone, however it went: terminated by the browser, closed, crashed.
// A worker that ends sends no message, and one busy in a long wasm call cannot answer a ping.
// But a Web Lock is released when the worker holding it ends, so the owner asks for the same lock
// and is granted it exactly then. Where Web Locks are missing (an insecure origin), nothing is
// watched.

/**
 * A lock name no other worker uses.
 * @param {string} prefix
 */
export function lifeName(prefix) {
  const random = globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;
  return `playground-${prefix}-${random}`;
}

/**
 * In the worker: holds lock `name` for as long as this worker lives.
 * @param {string} name
 * @returns {Promise<void>} resolves once it is held
 */
export function holdLife(name) {
  const locks = globalThis.navigator?.locks;
  if (!locks || !name) return Promise.resolve();
  return new Promise((held) => {
    locks.request(name, () => {
      held();
      return new Promise(() => {}); // never released while this worker lives
    });
  });
}

/**
 * In the owner: calls `onLost` once the worker holding `name` has ended (also when it was ended on
 * purpose: `onLost` decides whether that matters).
 * @param {string} name
 * @param {() => void} onLost
 */
export function watchLife(name, onLost) {
  const locks = globalThis.navigator?.locks;
  if (!locks || !name) return;
  locks.request(name, () => onLost()).catch(() => {});
}
