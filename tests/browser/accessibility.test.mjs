// Accessibility you can prove (issue 12): axe-core's WCAG 2.1 AA rules find nothing on the home
// page, on every topic's page after a run, and in the embed on another origin, in the light and
// the dark theme; every control is reached by keyboard with a visible focus ring; runs are
// announced in a live region; and at 320 px wide or 200% zoom nothing is cut off or needs the
// page to scroll sideways.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { onPage, openEmbedCourse, openPage, runAndWait, useBrowser } from './harness.mjs';

const env = useBrowser();

const AXE = readFileSync('node_modules/axe-core/axe.min.js', 'utf8');
const WCAG_21_AA = { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] };
/** A theme changes colours only: in the second one, only the rules about colours run again. */
const COLOUR_RULES = { type: 'rule', values: ['color-contrast', 'link-in-text-block'] };

/**
 * axe's WCAG 2.1 AA violations in a page or frame, in each theme: ["rule (theme): n × where"].
 * The theme is switched in place, so a run is checked in both without running again.
 * @param {import('playwright-core').Page | import('playwright-core').Frame} target
 */
async function violations(target, themes = ['light', 'dark']) {
  if (!(await target.evaluate(() => 'axe' in window))) await target.evaluate(AXE);
  /** @type {string[]} */
  const found = [];
  for (const [i, theme] of themes.entries()) {
    const result = await target.evaluate(
      async ([runOnly, t]) => {
        document.documentElement.dataset.theme = t;
        const { violations: list } = await window.axe.run(document, { runOnly });
        return list.map((v) => ({
          id: v.id,
          nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${(n.any[0] ?? n.all[0] ?? n.none[0])?.message ?? ''}`),
        }));
      },
      /** @type {const} */ ([i === 0 ? WCAG_21_AA : COLOUR_RULES, theme]),
    );
    found.push(...result.map((v) => `${v.id} (${theme}): ${v.nodes.length} × ${v.nodes.slice(0, 3).join(' | ')}`));
  }
  return found;
}

/** Whether the page scrolls sideways (content wider than the viewport). */
const scrollsSideways = (/** @type {import('playwright-core').Page} */ page) =>
  page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);

describe('axe-core, WCAG 2.1 AA', () => {
  test('the home page, and every topic page after a run, in both themes', async () => {
    await onPage(
      () => openPage(env.browser, env.url),
      async ({ page }) => {
        /** @type {Record<string, string[]>} */
        const found = { home: await violations(page) };
        const topics = await page.$$eval('#topics a', (links) =>
          links.map((a) => /** @type {HTMLElement} */ (a).dataset.topic),
        );
        assert.ok(topics.length >= 30, `${topics.length} topics`);
        for (const topic of topics) {
          await page.goto(`${env.url}?topic=${topic}`);
          await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
          await runAndWait(page);
          await page.waitForSelector('.timeline[data-drawn="true"], #results .status.failed', { timeout: 10_000 });
          found[/** @type {string} every link names its topic */ (topic)] = await violations(page);
        }
        const failing = Object.entries(found).filter(([, list]) => list.length);
        assert.deepEqual(failing, [], JSON.stringify(failing, null, 1));
        console.log(
          `axe: no WCAG 2.1 AA violation on the home page and ${topics.length} topic pages after a run, light and dark`,
        );
      },
    );
  });

  test('the embed in a course page on another origin, after a run, in both themes', async () => {
    await onPage(
      () => openEmbedCourse(env.browser, `${env.url}embed.html?topic=gil&limit=2000000&autorun=1`),
      async ({ page }) => {
        const frame = page.frame({ url: /embed\.html/ }) ?? assert.fail('no embed frame');
        await frame.waitForFunction(() => Number(document.body.dataset.runs ?? 0) === 1, null, { timeout: 60_000 });
        assert.deepEqual(await violations(frame), []);
      },
    );
  });
});

describe('keyboard, live regions, narrow screens', () => {
  test('every control of a topic page is reached by Tab, with a visible focus ring; Run works from the keyboard and is announced', async () => {
    await onPage(
      () => openPage(env.browser, `${env.url}?topic=cpu-map&tasks=2&numbers=2000000`),
      async ({ page }) => {
        // Run from the keyboard: focus the button and press Enter.
        await page.focus('#run');
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => Number(document.body.dataset.runs ?? 0) === 1, null, { timeout: 60_000 });
        await page.waitForFunction(
          () =>
            /^Finished in .+ \d+ of \d+ checks passed\.$/.test(document.getElementById('announcer')?.textContent ?? ''),
          null,
          { timeout: 5000 },
        );
        assert.equal(await page.getAttribute('#announcer', 'aria-live'), 'polite');

        // Tab from the top (the skip link) to the end: each stop shows a ring, every control is a stop.
        await page.focus('.skip');
        const reached = new Set();
        const noRing = [];
        for (let i = 0; i < 200; i++) {
          if (i > 0) await page.keyboard.press('Tab');
          const stop = await page.evaluate(() => {
            const el = document.activeElement;
            if (!el || el === document.body) return null;
            const style = getComputedStyle(el);
            const id =
              el.id || `${el.tagName.toLowerCase()}.${el.className}:${(el.textContent ?? '').trim().slice(0, 30)}`;
            return { id, ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
          });
          if (!stop || reached.has(stop.id)) break;
          reached.add(stop.id);
          if (!stop.ring) noRing.push(stop.id);
        }
        assert.deepEqual(noRing, [], 'focus stops without a visible ring');
        // Tabs are one stop: the arrow keys move between them (a roving tabindex).
        const controls = await page.$$eval(
          '#app button:not([disabled]):not([tabindex="-1"]), #app input, #app select, #app a[href], #app [tabindex="0"], #topics a',
          (list) =>
            list
              .filter((el) => /** @type {HTMLElement} */ (el).offsetParent !== null)
              .map(
                (el) =>
                  el.id || `${el.tagName.toLowerCase()}.${el.className}:${(el.textContent ?? '').trim().slice(0, 30)}`,
              ),
        );
        const missed = controls.filter((id) => !reached.has(id));
        assert.deepEqual(missed, [], 'controls Tab never reached');
        await page.focus('#tab-rust');
        await page.keyboard.press('ArrowRight');
        assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-python');
        assert.equal(await page.isVisible('#code-python pre'), true);
      },
    );
  });

  test('at 320 px wide and at 200% zoom nothing needs sideways scrolling, and axe still finds nothing', async () => {
    // 200% zoom of a 1280 x 1000 window lays out like a 640 px wide one at twice the pixels.
    for (const [width, height, scale] of [
      [320, 720, 1],
      [640, 500, 2],
    ]) {
      await onPage(
        () => openPage(env.browser, null, { width, height, scale }),
        async ({ page }) => {
          for (const url of [env.url, `${env.url}?topic=race&threads=4`, `${env.url}embed.html?topic=io-compare`]) {
            await page.goto(url);
            await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
            if (await page.$('#run')) {
              await runAndWait(page);
              assert.equal(await page.isVisible('#results .status'), true);
            }
            assert.equal(await scrollsSideways(page), false, `${url} at ${width} px scrolls sideways`);
            assert.deepEqual(await violations(page, ['light']), [], `${url} at ${width} px`);
          }
        },
      );
    }
  });
});
