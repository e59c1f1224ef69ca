// Quick look at the first click only (the full figures are in browser-bench.mjs):
//   node tests/bench/first-click.mjs [topic ...]
// WAIT_MS=3000 presses Run that long after the page is ready (to see what background start-up costs).
import { launch, openPage, runAndWait, startServer, timings, toMs } from '../browser/harness.mjs';

const topics = process.argv.slice(2).length ? process.argv.slice(2) : ['cpu-map', 'gil', 'image-resize', 'kitchen', 'io-compare'];
const server = await startServer();
const browser = await launch();
for (const topic of topics) {
  const { page, context } = await openPage(browser, `${server.url}?topic=${topic}`);
  await page.waitForTimeout(Number(process.env.WAIT_MS ?? 0));
  for (const click of ['first', 'second']) {
    await runAndWait(page);
    const rows = Object.entries(await timings(page));
    const base = toMs(rows[0][1].wall);
    console.log(`${topic} ${click}: ${rows.map(([mode, r]) => `${mode} ${toMs(r.wall).toFixed(0)} ms (${(base / toMs(r.wall)).toFixed(2)}x)`).join('; ')}`);
  }
  await context.close();
}
await browser.close();
await server.close();
