// A first load of a topic page needs the topic list, that one topic and its explanation, not the
// whole catalog (www/pkg/catalog.json, written by src/bin/export_static.rs: every topic's form,
// presets, modes and prompts) nor the code below the fold (www/pkg/texts/<id>.json, mostly the
// Rust). This writes, from those: ROOT/catalog/index.json (the catalog with each topic cut to its
// id, title and chapter) and ROOT/catalog/<id>.json (each topic whole), which www/js/catalog.js
// reads; ROOT/explanations/<id>.json (`{explanation}`), which www/js/texts.js reads.
//
//   node tools/split-static.mjs [ROOT]     (ROOT defaults to www/pkg)

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An empty folder ROOT/NAME (no file left from an older build).
 * @param {string} root @param {string} name
 */
function emptied(root, name) {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  return dir;
}

/** @param {string} root */
export function splitStatic(root = 'www/pkg') {
  /** @type {import('../www/js/types.js').Catalog} */
  const catalog = JSON.parse(readFileSync(join(root, 'catalog.json'), 'utf8'));
  const dir = emptied(root, 'catalog');
  const explanations = emptied(root, 'explanations');
  const topics = catalog.topics.map(({ id, title, chapter }) => ({ id, title, chapter }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ ...catalog, topics }));
  for (const topic of catalog.topics) {
    if (!/^[a-z0-9-]+$/.test(topic.id) || topic.id === 'index')
      throw new Error(`a topic id unfit for a file name: ${topic.id}`);
    writeFileSync(join(dir, `${topic.id}.json`), JSON.stringify(topic));
    /** @type {import('../www/js/types.js').Texts} */
    const texts = JSON.parse(readFileSync(join(root, 'texts', `${topic.id}.json`), 'utf8'));
    writeFileSync(join(explanations, `${topic.id}.json`), JSON.stringify({ explanation: texts.explanation }));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) splitStatic(process.argv[2] ?? 'www/pkg');
