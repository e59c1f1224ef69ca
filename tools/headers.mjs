// The `_headers` file (Netlify / Cloudflare Pages format) that `build.sh dist` writes: the
// isolation headers tools/serve.mjs sends, on every path, so a static host serves the playground
// cross-origin isolated (threads on). Run alone, it prints the file.
import { ISOLATION_HEADERS } from './serve.mjs';

export function headersFile() {
  return ['/*', ...Object.entries(ISOLATION_HEADERS).map(([name, value]) => `  ${name}: ${value}`), ''].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(headersFile());
