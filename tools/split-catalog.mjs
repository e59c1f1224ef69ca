// A first load of a topic page needs the topic list and that one topic, not the whole catalog
// (www/pkg/catalog.json, written by src/bin/export_static.rs: every topic's form, presets, modes
// and prompts): this writes ROOT/catalog/index.json (the catalog with each topic cut to its id,
// title and chapter) and ROOT/catalog/<id>.json (each topic whole), which www/js/catalog.js reads.
//
//   node tools/split-catalog.mjs [ROOT]     (ROOT defaults to www/pkg)

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** @param {string} root */
export function splitCatalog(root = 'www/pkg') {
  /** @type {import('../www/js/types.js').Catalog} */
  const catalog = JSON.parse(readFileSync(join(root, 'catalog.json'), 'utf8'));
  const dir = join(root, 'catalog');
  rmSync(dir, { recursive: true, force: true }); // no topic left from an older build
  mkdirSync(dir);
  const topics = catalog.topics.map(({ id, title, chapter }) => ({ id, title, chapter }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ ...catalog, topics }));
  for (const topic of catalog.topics) {
    if (!/^[a-z0-9-]+$/.test(topic.id) || topic.id === 'index')
      throw new Error(`a topic id unfit for a file name: ${topic.id}`);
    writeFileSync(join(dir, `${topic.id}.json`), JSON.stringify(topic));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) splitCatalog(process.argv[2] ?? 'www/pkg');
