// Writes a SCORM 1.2 package of one exercise (www/js/scorm.js): `./build.sh package TOPIC
// [key=value ...] [--prompt ID] [--panels a,b] [--playground URL] [--out FILE]`. The topic, its
// parameters and prompts are checked against the catalog the build wrote (www/pkg/catalog.json);
// the values themselves are checked by the playground when the package runs (as any URL's are).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

import { packageName, scormPackage } from '../www/js/scorm.js';

/** @typedef {import('../www/js/types.js').Catalog} Catalog */

const PANELS = ['explanation', 'params', 'results', 'timeline', 'history', 'code', 'python'];

/**
 * @param {string[]} args
 * @returns {{file: string, bytes: Uint8Array}}
 */
export function buildPackage(args, catalogFile = 'www/pkg/catalog.json') {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      prompt: { type: 'string' },
      panels: { type: 'string' },
      playground: { type: 'string', default: 'http://127.0.0.1:8000/' },
      out: { type: 'string' },
    },
  });
  const [topicId, ...pairs] = positionals;
  if (!topicId)
    throw new Error(
      'usage: ./build.sh package TOPIC [key=value ...] [--prompt ID] [--panels a,b] [--playground URL] [--out FILE]',
    );
  /** @type {Catalog} */
  const catalog = JSON.parse(readFileSync(catalogFile, 'utf8'));
  const topic = catalog.topics.find((t) => t.id === topicId);
  if (!topic)
    throw new Error(`There is no topic "${topicId}": the topics are ${catalog.topics.map((t) => t.id).join(', ')}.`);
  /** @type {Record<string, string>} */
  const params = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const name = at > 0 ? pair.slice(0, at) : '';
    const param = topic.params.find((p) => p.name === name);
    if (!param || param.type === 'files')
      throw new Error(
        `${topicId} has no parameter "${name || pair}" to fix: it has ${topic.params
          .filter((p) => p.type !== 'files')
          .map((p) => p.name)
          .join(', ')}.`,
      );
    params[name] = pair.slice(at + 1);
  }
  const prompt = values.prompt === undefined ? null : (topic.prompts.find((p) => p.id === values.prompt) ?? null);
  if (values.prompt !== undefined && !prompt)
    throw new Error(
      `${topicId} has no prompt "${values.prompt}": ${topic.prompts.length ? `it has ${topic.prompts.map((p) => p.id).join(', ')}` : 'it asks none'}.`,
    );
  const panels =
    values.panels === undefined
      ? null
      : values.panels
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
  const unknown = (panels ?? []).filter((p) => !PANELS.includes(p));
  if (unknown.length) throw new Error(`Unknown panels ${unknown.join(', ')}: the panels are ${PANELS.join(', ')}.`);
  const playground = new URL(values.playground ?? '').href;
  const exercise = {
    topic: { id: topic.id, title: topic.title },
    params,
    prompt: prompt && { id: prompt.id, question: prompt.question },
    panels,
    playground,
  };
  return { file: values.out ?? packageName(exercise), bytes: scormPackage(exercise) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { file, bytes } = buildPackage(process.argv.slice(2));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, bytes);
    console.log(`wrote ${file} (${bytes.length} bytes): import it into your LMS as a SCORM 1.2 package`);
  } catch (error) {
    console.error(/** @type {Error} */ (error).message);
    process.exit(2);
  }
}
