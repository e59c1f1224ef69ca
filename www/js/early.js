// The script of index.html and embed.html. The first load's critical path starts here, before
// the rest of the page has loaded: which engine part the topic needs (the catalog's topic list
// says), that part's wasm compiling, and its engine worker. Then the page itself (boot.js), which
// finds them started: the same modules, so the same compiling and the same worker. Its modules are
// asked for after the wasm: a server over HTTP/1.1 takes six requests at a time, and they would go
// first.

import { loadIndex, partOf } from './catalog.js';
import { compileEngine, startEngineEarly } from '../engine/engine-start.js';
import { NETWORK_PARTS } from '../engine/flavor.js';

/** boot.js's static imports, at every depth (but this script's own), fetched at once rather than import by import. */
const PAGE_MODULES = [
  'boot.js',
  'engine-client.js',
  '../engine/liveness.js',
  '../engine/requests.js',
  '../engine/worker-host.js',
  'url-state.js',
  'display.js',
  'topic-page.js',
  'run-controller.js',
  'form.js',
  'texts.js',
  'dom.js',
  'home-page.js',
];

loadIndex()
  .then(
    (index) => {
      // The topic as url-state.js reads it (not imported: this script's own modules come first).
      const part = partOf(index, new URLSearchParams(window.location.search).get('topic'));
      compileEngine(part);
      // An engine whose topics fetch waits for the service worker's control on a first visit (boot.js).
      if (!NETWORK_PARTS.includes(part) || navigator.serviceWorker?.controller) startEngineEarly(part);
    },
    () => {}, // boot.js says so
  )
  .then(() => {
    for (const module of PAGE_MODULES)
      document.head.append(
        Object.assign(document.createElement('link'), {
          rel: 'modulepreload',
          href: new URL(module, import.meta.url).href,
        }),
      );
    return import('./boot.js');
  });
