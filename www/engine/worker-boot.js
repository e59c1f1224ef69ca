// The first script of every worker the page makes for the engine or a thread (see worker-host.js):
// it makes the MessagePort to the worker's creator look like the worker's parent (`postMessage`,
// `message` events on `self`), lets this worker make workers the same way, then imports the real
// script. Messages from the creator wait in the port until that script has run, as they would
// wait for a real worker's script.

import { installWorkerShim } from './worker-host.js';

/** @param {MessageEvent} event */
function boot(event) {
  const { data } = event;
  if (data?.type !== 'worker-boot') return;
  self.removeEventListener('message', boot);
  /** @type {{url: string, port: MessagePort, factory: MessagePort}} */
  const { url, port, factory } = data;
  installWorkerShim(factory);
  const close = self.close.bind(self);
  Object.assign(self, {
    postMessage: (/** @type {any} */ message, /** @type {any} */ transfer) => port.postMessage(message, transfer),
    close: () => {
      factory.postMessage({ type: 'closed' });
      close();
    },
  });
  import(url).then(
    () => {
      port.onmessage = ({ data, ports }) =>
        self.dispatchEvent(new MessageEvent('message', { data, ports: [...ports] }));
    },
    // As for a real worker whose script failed: an error event at the creator.
    (error) => factory.postMessage({ type: 'failed', message: `could not load ${url}: ${error}` }),
  );
}

self.addEventListener('message', boot);
