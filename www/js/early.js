// The first load's critical path, started before the rest of the page has loaded (index.html runs
// this async, so it waits only for its own few modules): which engine part the topic needs (the
// catalog's topic list says), that part's wasm compiling, and its engine worker. boot.js then
// finds them started: the same modules, so the same compiling and the same worker.

import { loadIndex, partOf } from './catalog.js';
import { compileEngine, startEngineEarly } from '../engine/engine-start.js';
import { NETWORK_PART } from '../engine/flavor.js';

loadIndex().then(
  (index) => {
    // The topic as url-state.js reads it (not imported: this script's own modules come first).
    const part = partOf(index, new URLSearchParams(window.location.search).get('topic'));
    compileEngine(part);
    // An engine whose topics fetch waits for the service worker's control on a first visit (boot.js).
    if (part !== NETWORK_PART || navigator.serviceWorker?.controller) startEngineEarly(part);
  },
  () => {}, // boot.js says so
);
