// The wasm builds themselves: the threaded module must import a SHARED memory (a plain
// +atomics build silently makes a non-shared one), and in headless Chromium its threads must
// really overlap and its blocking primitives work (the diagnostics page's self-test).

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { onPage, openPage, useBrowser } from './harness.mjs';

const env = useBrowser();

/** Reads the memory's limits flags from a wasm binary's import or memory section. */
/** @param {string} path */
function memoryKind(path) {
  const bytes = readFileSync(path);
  let i = 8;
  const leb = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[i++];
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return result;
    }
  };
  const limits = () => {
    const flags = leb();
    leb();
    if (flags & 1) leb();
    return flags;
  };
  while (i < bytes.length) {
    const id = bytes[i++];
    const size = leb();
    const end = i + size;
    if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        // (leb() moves i, so read each length before adding it)
        const moduleLength = leb();
        i += moduleLength;
        const nameLength = leb();
        i += nameLength;
        const kind = bytes[i++];
        if (kind === 0) leb();
        else if (kind === 1) {
          i++;
          limits();
        } else if (kind === 2) return limits() & 2 ? 'shared' : 'not-shared';
        else if (kind === 3) i += 2;
        else if (kind === 4) {
          i++;
          leb();
        }
      }
    } else if (id === 5 && leb() > 0) return limits() & 2 ? 'shared' : 'not-shared';
    i = end;
  }
  return 'none';
}

test('every part of the threaded build imports a shared memory; no part of the plain build does', () => {
  const parts = readdirSync('www/pkg/threads');
  assert.ok(parts.length >= 5, `parts: ${parts.join(', ')}`);
  assert.deepEqual(readdirSync('www/pkg/plain').sort(), [...parts].sort(), 'the same parts in both builds');
  for (const part of parts) {
    assert.equal(memoryKind(`www/pkg/threads/${part}/playground_bg.wasm`), 'shared', part);
    assert.equal(memoryKind(`www/pkg/plain/${part}/playground_bg.wasm`), 'not-shared', part);
  }
});

test('in Chromium, wasm threads overlap in time and locks, conditions and channels work', () =>
  onPage(
    () => openPage(env.browser, `${env.url}diagnostics.html`),
    async ({ page }) => {
      const rows = await page.$$eval('#selftest tbody tr', (trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
      );
      assert.equal(rows.length, 4, 'four self-test checks');
      for (const [result, name, detail] of rows) assert.equal(result, 'pass', `${name}: ${detail}`);
      const facts = await page.$$eval('.panel table tbody tr', (trs) =>
        Object.fromEntries(trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent))),
      );
      assert.equal(facts['Engine memory is shared'], 'true');
    },
  ));
