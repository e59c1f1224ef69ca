// Quick look at the first click only (the full figures are in browser-bench.mjs):
//   node tests/bench/first-click.mjs [topic ...]
// RUNS=N fresh pages per topic (default 3): each click's walls, then the medians of the ratios
// over the first mode. WAIT_MS=3000 presses Run that long after the page is ready (to see what
// background start-up costs).
import { launch, openPage, runAndWait, startServer, timings, toMs } from '../browser/harness.mjs';

const topics = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['cpu-map', 'gil', 'image-resize', 'kitchen', 'io-compare'];
const runs = Number(process.env.RUNS ?? 3);
const median = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const server = await startServer();
const browser = await launch();
for (const topic of topics) {
  /** @type {Record<string, number[]>[]} ratios over the first mode, per mode: [first click, second click] */
  const ratios = [{}, {}];
  for (let i = 0; i < runs; i++) {
    const { page, context } = await openPage(browser, `${server.url}?topic=${topic}`);
    await page.waitForTimeout(Number(process.env.WAIT_MS ?? 0));
    for (const [k, click] of ['first', 'second'].entries()) {
      await runAndWait(page);
      const rows = Object.entries(await timings(page));
      const base = toMs(rows[0][1].wall);
      for (const [mode, r] of rows.slice(1)) {
        ratios[k][mode] ??= [];
        ratios[k][mode].push(base / toMs(r.wall));
      }
      console.log(
        `${topic} ${click}: ${rows.map(([mode, r]) => `${mode} ${toMs(r.wall).toFixed(0)} ms (${(base / toMs(r.wall)).toFixed(2)}x)`).join('; ')}`,
      );
    }
    await context.close();
  }
  for (const [k, click] of ['first', 'second'].entries()) {
    console.log(
      `${topic} ${click} click, median of ${runs}: ${Object.entries(ratios[k])
        .map(([mode, xs]) => `${mode} ${median(xs).toFixed(2)}x`)
        .join('; ')}`,
    );
  }
}
await browser.close();
await server.close();
