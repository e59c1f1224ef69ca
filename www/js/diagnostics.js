// Diagnostics: what this browser offers the playground (isolation, shared memory, cores) and a
// self-test of real wasm threads: they overlap in time and their locks, conditions and channels work.

import { h, ms, replace } from './dom.js';
import { dataTable } from './results.js';
import { loadCatalog } from './catalog.js';
import { Engine } from './engine-client.js';

const app = /** @type {HTMLElement} */ (document.getElementById('app'));

async function main() {
  replace(app, h('h1', { text: 'Diagnostics' }), h('p', { role: 'status', text: 'Starting the engine…' }));
  // The self-test needs no topic: one part of the engine has it (the catalog says which).
  const engine = new Engine((await loadCatalog()).diagnostics);
  const ready = await engine.ready;
  const result = await engine.selfTest();
  const facts = [
    ['Cross-origin isolated', String(self.crossOriginIsolated)],
    ['SharedArrayBuffer available', String(typeof SharedArrayBuffer === 'function')],
    ['Engine build', ready.caps.flavor],
    ['Engine memory is shared', String(result.shared)],
    ['Logical cores', String(ready.caps.cores)],
    ['Engine start-up', ms(ready.bootMs)],
  ];
  const findings = result.findings.map((f) => [f.ok ? 'pass' : 'FAIL', f.name, f.detail]);
  replace(
    app,
    h('h1', { text: 'Diagnostics' }),
    h(
      'section',
      { class: 'panel' },
      h('h2', { text: 'This browser' }),
      dataTable('This browser', ['What', 'Value'], facts),
    ),
    h(
      'section',
      { class: 'panel', id: 'selftest' },
      h('h2', { text: 'Threads self-test' }),
      findings.length
        ? dataTable('Threads self-test', ['Result', 'Check', 'Detail'], findings)
        : h('p', {
            class: 'notice',
            text: 'Threads are unavailable: this page is not cross-origin isolated, so the threaded build was not loaded.',
          }),
    ),
  );
  document.body.dataset.ready = 'true';
}

main().catch((error) => replace(app, h('p', { class: 'status failed', role: 'alert', text: String(error) })));
