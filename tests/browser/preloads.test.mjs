// The first load's preload lists are written by hand (index.html, embed.html, early.js's
// PAGE_MODULES): a module imported and not listed is fetched late, one listed and no longer
// imported is fetched for nothing. Each list must be the static imports it stands for, at every
// depth. Node only: no browser needed.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';

const WWW = 'www';

/**
 * A module's static imports at every depth, itself included, as paths under www/.
 * @param {string} start a path under www/
 * @param {Set<string>} [seen]
 */
function closure(start, seen = new Set()) {
  if (seen.has(start)) return seen;
  seen.add(start);
  const source = readFileSync(join(WWW, start), 'utf8');
  for (const [, from] of source.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'(\.[^']+)'/gms))
    closure(relative(WWW, join(WWW, dirname(start), from)), seen);
  for (const [, from] of source.matchAll(/^import\s+'(\.[^']+)'/gm))
    closure(relative(WWW, join(WWW, dirname(start), from)), seen);
  return seen;
}

/** @param {string} page an HTML file under www/ */
const preloads = (page) =>
  new Set([...readFileSync(join(WWW, page), 'utf8').matchAll(/rel="modulepreload" href="([^"]+)"/g)].map((m) => m[1]));

const sorted = (/** @type {Iterable<string>} */ paths) => [...paths].sort();

test("index.html and embed.html preload early.js's modules; early.js preloads the rest of boot.js's", () => {
  const early = closure('js/early.js');
  assert.deepEqual(sorted(preloads('index.html')), sorted(early));
  assert.deepEqual(sorted(preloads('embed.html')), sorted(early));
  const listed = readFileSync(join(WWW, 'js/early.js'), 'utf8').match(/const PAGE_MODULES = \[([^\]]*)\]/s);
  assert.ok(listed, 'early.js has no PAGE_MODULES');
  const pageModules = [...listed[1].matchAll(/'([^']+)'/g)].map((m) => relative(WWW, join(WWW, 'js', m[1])));
  assert.deepEqual(sorted(pageModules), sorted([...closure('js/boot.js')].filter((m) => !early.has(m))));
});
