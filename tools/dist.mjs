// The static site `build.sh dist` makes: a copy of www/ (built) and its `_headers` file.
//
//   node tools/dist.mjs [DIR]     (DIR defaults to dist)

import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { headersFile } from './headers.mjs';

/**
 * Writes the site to `dir` (replacing it) from `from`, which must hold a build (pkg/).
 * @param {string} dir
 */
export function makeDist(dir, from = 'www') {
  if (!existsSync(join(from, 'pkg', 'plain'))) throw new Error(`${from}/pkg is missing: run ./build.sh build first`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(from, dir, { recursive: true });
  writeFileSync(join(dir, '_headers'), headersFile());
}

if (import.meta.url === `file://${process.argv[1]}`) makeDist(process.argv[2] ?? 'dist');
