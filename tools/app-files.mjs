// The service worker's allowlist for one build (www/pkg/app-files.json): every file of the app,
// relative to its root, and a version made from their contents, which names the cache. The
// service worker caches these files and nothing else, so deployed at an origin's root it keeps
// no other app's pages; a new build gets a new cache, and the old one is deleted.
//
//   node tools/app-files.mjs [ROOT]     (ROOT defaults to www)

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const OUTPUT = 'pkg/app-files.json';

/**
 * Writes ROOT/pkg/app-files.json and returns what it wrote.
 * @param {string} root
 */
export function writeAppFiles(root = 'www') {
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    // Not the service worker itself (the browser fetches it past us), nor type declarations.
    .filter((path) => path !== OUTPUT && path !== 'sw.js' && !path.endsWith('.d.ts'))
    .sort();
  const hash = createHash('sha256');
  for (const path of files)
    hash
      .update(path)
      .update('\0')
      .update(readFileSync(join(root, path)));
  const list = { version: hash.digest('hex').slice(0, 12), files };
  writeFileSync(join(root, OUTPUT), JSON.stringify(list));
  return list;
}

if (import.meta.url === `file://${process.argv[1]}`) writeAppFiles(process.argv[2] ?? 'www');
