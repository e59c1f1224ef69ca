// Every header the playground's files should be served with, in one place: tools/serve.mjs sends
// them, `build.sh dist` writes them to `_headers` (Netlify / Cloudflare Pages format), and run
// alone this prints that file, or the nginx or Apache lines the README shows:
//
//   node tools/headers.mjs [_headers|nginx|apache]

/** The isolation headers (needed for SharedArrayBuffer, so for wasm threads). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  // Chromium 137+: isolates this document even inside an iframe on a non-isolated page.
  'Document-Isolation-Policy': 'isolate-and-require-corp',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

/**
 * The Content-Security-Policy of every file (as a header it also covers workers and the service
 * worker, which a page's <meta> does not): no inline script or style, no eval but WebAssembly's,
 * `blob:` scripts (a thread's worker imports the one wasm-bindgen makes), `connect-src` open so
 * the scraper can try learner URLs.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; style-src 'self'; " +
  "img-src 'self' data: blob:; connect-src 'self' http: https:; object-src 'none'; base-uri 'none'; form-action 'none'";

export const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  // Learner URLs are fetched from the page: they learn nothing of where it is.
  'Referrer-Policy': 'no-referrer',
};

/**
 * Who may frame each page, as a second policy beside the first (a browser enforces both): the
 * embed anywhere, on purpose; the other pages only by the playground itself. Paths with and
 * without `.html`, as hosts with "pretty URLs" serve them.
 */
export const FRAMING = {
  '/embed.html': 'frame-ancestors *',
  '/embed': 'frame-ancestors *',
  '/': "frame-ancestors 'self'",
  '/index.html': "frame-ancestors 'self'",
  '/diagnostics.html': "frame-ancestors 'self'",
  '/diagnostics': "frame-ancestors 'self'",
};

/**
 * The headers of the file at `pathname` (two Content-Security-Policy values are joined by a
 * comma: two policies, as two header lines would be).
 * @param {string} pathname
 * @returns {Record<string, string>}
 */
export function headersFor(pathname) {
  /** @type {Record<string, string>} */
  const headers = { ...ISOLATION_HEADERS, ...SECURITY_HEADERS };
  const framing = Object.hasOwn(FRAMING, pathname) ? FRAMING[/** @type {keyof typeof FRAMING} */ (pathname)] : null;
  if (framing) headers['Content-Security-Policy'] += `, ${framing}`;
  return headers;
}

/** `_headers`: every header on every path, then each page's framing policy (which such hosts add to the first). */
export function headersFile() {
  const lines = (/** @type {Record<string, string>} */ headers) =>
    Object.entries(headers).map(([name, value]) => `  ${name}: ${value}`);
  return [
    '/*',
    ...lines({ ...ISOLATION_HEADERS, ...SECURITY_HEADERS }),
    ...Object.entries(FRAMING).flatMap(([path, policy]) => [path, `  Content-Security-Policy: ${policy}`]),
    '',
  ].join('\n');
}

/** nginx: the `add_header` lines for the `server` block, and a `location` per framed page (nginx does not inherit add_header into a location that has its own). */
export function nginx() {
  const adds = (/** @type {Record<string, string>} */ headers, indent = '') =>
    Object.entries(headers).map(([name, value]) => `${indent}add_header ${name} "${value}" always;`);
  const all = { ...ISOLATION_HEADERS, ...SECURITY_HEADERS };
  return [
    ...adds(all),
    'types { application/wasm wasm; }',
    ...Object.keys(FRAMING).flatMap((path) => [`location = ${path} {`, ...adds(headersFor(path), '  '), '}']),
    '',
  ].join('\n');
}

/** Apache (`mod_headers`; `.htaccess` or the site config): every header, and each framed page's in an `<If>`. */
export function apache() {
  const sets = (/** @type {Record<string, string>} */ headers, indent = '') =>
    Object.entries(headers).map(([name, value]) => `${indent}Header always set ${name} "${value}"`);
  return [
    ...sets({ ...ISOLATION_HEADERS, ...SECURITY_HEADERS }),
    'AddType application/wasm .wasm',
    ...Object.keys(FRAMING).flatMap((path) => [
      `<If "%{REQUEST_URI} == '${path}'">`,
      ...sets({ 'Content-Security-Policy': headersFor(path)['Content-Security-Policy'] }, '  '),
      '</If>',
    ]),
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const which = process.argv[2] ?? '_headers';
  process.stdout.write(which === 'nginx' ? nginx() : which === 'apache' ? apache() : headersFile());
}
