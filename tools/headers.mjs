// Prints a `_headers` file (Netlify / Cloudflare Pages format) with the isolation headers that
// tools/serve.mjs sends, so a static host serves the playground cross-origin isolated.
import { ISOLATION_HEADERS } from './serve.mjs';

console.log('/*');
for (const [name, value] of Object.entries(ISOLATION_HEADERS)) console.log(`  ${name}: ${value}`);
