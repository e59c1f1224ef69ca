// A small static server for the playground. It sends the headers tools/headers.mjs lists on every
// file, workers included: those that make the page cross-origin isolated (needed for
// SharedArrayBuffer, so for wasm threads), the Content-Security-Policy and the others a host
// should send. `--no-isolation` sends none of them, as an ordinary static host would;
// `--headers FILE` sends instead what a `_headers` file (Netlify / Cloudflare Pages format, as
// `build.sh dist` writes) says, as such a host would.
//
//   node tools/serve.mjs [--root www] [--port 8000] [--no-isolation] [--headers dist/_headers] [--quiet]

import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { headersFor, ISOLATION_HEADERS } from './headers.mjs';

/** @type {Record<string, string>} */
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

export { ISOLATION_HEADERS };

/**
 * The rules of a `_headers` file: a path pattern (`*` matches anything) on a line of its own, then
 * its headers indented as `Name: value`; `#` starts a comment.
 * @param {string} text
 * @returns {{pattern: RegExp, headers: Record<string, string>}[]}
 */
export function parseHeadersFile(text) {
  /** @type {{pattern: RegExp, headers: Record<string, string>}[]} */
  const rules = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      const pattern = new RegExp(
        `^${line
          .trim()
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      );
      rules.push({ pattern, headers: {} });
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0 || !rules.length) throw new Error(`_headers: cannot read the line "${line.trim()}"`);
    rules[rules.length - 1].headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return rules;
}

/**
 * Starts a server; resolves to it once listening. `onServed(path, body, arrived)` sees every file
 * sent and when its request arrived (the benchmark counts a first load's bytes with it, workers'
 * requests included). With `headersFile`, the headers come from its rules, not `isolation`.
 * @param {{root?: string, port?: number, isolation?: boolean, headersFile?: string, quiet?: boolean, onServed?: (path: string, body: Buffer, arrived: number) => void}} [options]
 */
export function serve({ root = 'www', port = 8000, isolation = true, headersFile, quiet = false, onServed } = {}) {
  const base = resolve(root);
  const rules = headersFile ? parseHeadersFile(readFileSync(headersFile, 'utf8')) : null;
  const server = createServer(async (request, response) => {
    const arrived = Date.now();
    let url, path;
    try {
      url = new URL(request.url ?? '/', 'http://localhost');
      path = normalize(join(base, decodeURIComponent(url.pathname)));
      if (path.includes('\0')) throw new Error('a NUL in the path');
    } catch {
      // A path that cannot be decoded (a lone %, bad UTF-8, NUL): this request only.
      response.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad request path');
      return;
    }
    if (path !== base && !path.startsWith(base + sep)) {
      response.writeHead(403).end('forbidden');
      return;
    }
    try {
      let info = await stat(path);
      if (info.isDirectory()) {
        path = join(path, 'index.html');
        info = await stat(path);
      }
      // Revalidation, as static hosts do: a file fetched twice (say by the service worker and
      // by the page) crosses the network once.
      const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
      const headers = {
        'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
        'Cache-Control': 'no-cache',
        ETag: etag,
      };
      if (rules) {
        // As those hosts do: every matching rule applies, and a header two rules set gets both values.
        /** @type {Record<string, string>} */
        const ruled = {};
        for (const rule of rules) {
          if (!rule.pattern.test(url.pathname)) continue;
          for (const [name, value] of Object.entries(rule.headers))
            ruled[name] = ruled[name] ? `${ruled[name]}, ${value}` : value;
        }
        Object.assign(headers, ruled);
      } else if (isolation) Object.assign(headers, headersFor(url.pathname));
      if (request.headers['if-none-match'] === etag) {
        response.writeHead(304, headers).end();
      } else {
        const body = await readFile(path);
        response.writeHead(200, headers).end(body);
        onServed?.(url.pathname, body, arrived);
      }
    } catch {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
    if (!quiet) console.log(request.method, url.pathname);
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done(server));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const option = (/** @type {string} */ name, /** @type {string | undefined} */ fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const port = Number(option('--port', process.env.PORT ?? '8000'));
  const isolation = !args.includes('--no-isolation');
  const headersFile = option('--headers', undefined);
  const server = await serve({
    root: option('--root', 'www'),
    port,
    isolation,
    headersFile,
    quiet: args.includes('--quiet'),
  });
  const address = server.address();
  const shown = typeof address === 'object' && address ? address.port : port;
  const how = headersFile
    ? `(headers from ${headersFile})`
    : isolation
      ? '(cross-origin isolated)'
      : '(no isolation headers)';
  console.log(`Concurrency Playground: http://127.0.0.1:${shown}/ ${how}`);
}
