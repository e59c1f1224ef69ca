// Shared by the browser tests: serve www/ (with or without isolation headers), start Debian's
// chromium through playwright-core (or firefox-esr through puppeteer-core), and collect console
// errors so tests can insist on none.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';

import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { serve } from '../../tools/serve.mjs';

/**
 * @typedef {import('playwright-core').Page} Page
 * @typedef {Page | import('playwright-core').Frame} PageOrFrame what reading helpers accept (an embed is a frame)
 * @typedef {{values?: Record<string, string | number>, select?: Record<string, string>, expect?: Record<string, RegExp>, shot?: string, inspect?: (page: Page) => Promise<void>}} FormEdits
 *   what `runFromForm` types and picks, and what the run must then show
 */

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** On top of puppeteer's own (no updates, safe browsing, telemetry upload): nothing leaves 127.0.0.1. */
export const FIREFOX_PREFS = {
  'app.update.auto': false,
  'browser.region.network.url': '',
  'extensions.systemAddon.update.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.trr.mode': 5,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.server': '',
};

/**
 * Debian's firefox-esr, headless, driven over WebDriver BiDi. (A Firefox that puppeteer would
 * download does not run here; Debian's does.)
 */
export async function launchFirefox() {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: FIREFOX_PREFS,
  });
}

/**
 * Starts a static server on a free port; resolves to {url, close}.
 * @param {Omit<NonNullable<Parameters<typeof serve>[0]>, 'port' | 'quiet'>} [options]
 */
export async function startServer({
  isolation = true,
  root = 'www',
  headersFile = undefined,
  onServed = undefined,
} = {}) {
  const server = await serve({ root, port: 0, isolation, headersFile, quiet: true, onServed });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () => new Promise((done) => server.close(() => done(undefined))),
  };
}

export async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * A new page that records console errors and uncaught exceptions (from workers too).
 * @param {import('playwright-core').Browser} browser
 * @param {string | null} url null: a blank page
 */
export async function openPage(browser, url, { width = 1280, height = 1000, scale = 1 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: scale });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('worker', (worker) =>
    worker.on('console', (message) => message.type() === 'error' && errors.push(`[worker] ${message.text()}`)),
  );
  if (url) await gotoReady(page, url);
  return { page, context, errors, close: () => context.close() };
}

/**
 * A course page on another origin: `html` served as `file` by a static server without isolation
 * headers (an ordinary site), opened in a new page. Closing the session stops the server too.
 * @param {import('playwright-core').Browser} browser
 * @param {string} html
 */
export async function openCoursePage(browser, html, file = 'index.html') {
  const dir = mkdtempSync(join(tmpdir(), 'course-'));
  writeFileSync(join(dir, file), html);
  const server = await startServer({ root: dir, isolation: false });
  const session = await openPage(browser, null);
  await session.page.goto(`${server.url}${file}`);
  const close = async () => {
    await session.close();
    await server.close();
  };
  return { ...session, close };
}

/** What the embed posts that answers no command: events about a run, and height reports. */
const EMBED_EVENTS = ['started', 'progress', 'resize'];

/**
 * A course page (openCoursePage) with the embed `src` in an iframe: `window.send(message)` posts
 * to it; `window.replies` records the embed's answers and its ready message in arrival order,
 * `window.events` everything else it posts (run events, {type: 'resize'}, {subject:
 * 'lti.frameResize'}). Waits for 'ready' unless told not to.
 * @param {import('playwright-core').Browser} browser
 * @param {string} src
 */
export async function openEmbedCourse(browser, src, { waitReady = true } = {}) {
  const session = await openCoursePage(
    browser,
    `<!doctype html><meta charset="utf-8"><title>A course</title><link rel="icon" href="data:,">
<iframe id="demo" src="${src}" width="1000" height="700" allow="cross-origin-isolated"></iframe>
<script>
window.replies = [];
window.events = [];
const frame = document.getElementById('demo');
const events = ${JSON.stringify(EMBED_EVENTS)};
addEventListener('message', (e) => {
  if (e.source !== frame.contentWindow) return;
  if (typeof e.data?.type === 'string' && !events.includes(e.data.type)) window.replies.push(e.data);
  else window.events.push(e.data);
});
window.send = (message) => frame.contentWindow.postMessage(message, '*');
</script>`,
  );
  if (waitReady)
    await session.page.waitForFunction(() => window.replies.some((m) => m.type === 'ready'), null, { timeout: 30_000 });
  return session;
}

/**
 * Sends one message from the course page and waits for the answer carrying `requestId`.
 * @param {Page} page
 * @param {{requestId: string | number, [field: string]: unknown}} message
 * @returns {Promise<EmbedMessage>}
 */
export async function ask(page, message, timeout = 60_000) {
  return page.evaluate(
    ([m, ms]) =>
      /** @type {Promise<EmbedMessage>} */ (
        new Promise((resolve, reject) => {
          const before = window.replies.length;
          window.send(m);
          const started = Date.now();
          const look = () => {
            const found = window.replies.slice(before).find((r) => r.requestId === m.requestId);
            if (found) resolve(found);
            else if (Date.now() - started > ms) reject(new Error(`no answer to ${m.requestId}`));
            else setTimeout(look, 20);
          };
          look();
        })
      ),
    /** @type {const} */ ([message, timeout]),
  );
}

/**
 * The text of the first element matching `selector` ('' when it has none), for assertions.
 * @param {PageOrFrame} page
 * @param {string} selector
 */
export async function textOf(page, selector) {
  return (await page.textContent(selector)) ?? '';
}

/**
 * Navigates and waits until the playground has loaded its catalog.
 * @param {Page} page
 * @param {string} url
 */
export async function gotoReady(page, url) {
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
}

/**
 * Starts the servers and the browser before a test file's tests and closes them after: `env.url`
 * (isolation headers), `env.plainUrl` (none), `env.browser`.
 */
export function useBrowser() {
  /** @type {{url: string, plainUrl: string, browser: import('playwright-core').Browser}} */
  const env = /** @type {{url: string, plainUrl: string, browser: import('playwright-core').Browser}} */ ({}); // filled in before the tests run
  /** @type {{close: () => Promise<unknown>}[]} */
  const open = [];
  before(async () => {
    const [isolated, plain] = await Promise.all([startServer({ isolation: true }), startServer({ isolation: false })]);
    open.push(isolated, plain);
    env.url = isolated.url;
    env.plainUrl = plain.url;
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await Promise.all(open.map((server) => server.close()));
  });
  return env;
}

/**
 * Presses Run (and Stop after `stopAfterMs`, if given) and waits for this run to end: the page
 * counts finished runs in `body.dataset.runs`. Returns the status line's text.
 * @param {import('playwright-core').Page} page
 * @param {{stopAfterMs?: number, timeout?: number}} [options]
 */
export async function runAndWait(page, { stopAfterMs, timeout = 90_000 } = {}) {
  const before = await page.evaluate(() => Number(document.body.dataset.runs ?? 0));
  await page.click('#run');
  if (stopAfterMs !== undefined) {
    await page.waitForFunction(() => document.body.dataset.running === 'true', null, { timeout: 10_000 });
    await page.waitForTimeout(stopAfterMs);
    await page.click('#stop');
  }
  await page.waitForFunction((n) => Number(document.body.dataset.runs ?? 0) > n, before, { timeout });
  return (await page.textContent('#results .status')) ?? '';
}

/**
 * A learner's run from the form: types `values`, picks `select`, presses Run. Asserts that the run
 * finished, that self-checks are shown and all pass, and that each mode's result matches `expect`;
 * saves screenshot `shot` and calls `inspect` (for what else the results must show); then reloads
 * the page and asserts the edited values are back (they live in the address bar, so the run can
 * be shared). Returns the timing rows.
 * @param {Page} page
 * @param {FormEdits} [edits]
 */
export async function runFromForm(page, { values = {}, select = {}, expect = {}, shot, inspect } = {}) {
  for (const [name, value] of Object.entries(values)) await page.fill(`#param-${name}`, String(value));
  for (const [name, value] of Object.entries(select)) await page.selectOption(`#param-${name}`, value);
  const status = await runAndWait(page);
  assert.match(status, /^Finished/, status);
  const rows = await timings(page);
  for (const [mode, pattern] of Object.entries(expect))
    assert.match(rows[mode].result, pattern, `${mode}: ${rows[mode].result}`);
  const list = await checks(page);
  assert.ok(list.length > 0, 'no self-checks shown');
  for (const check of list) assert.ok(check.ok, check.text);
  if (shot) await shoot(page, shot);
  if (inspect) await inspect(page);
  const edited = Object.entries({ ...values, ...select });
  if (edited.length) {
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    for (const [name, value] of edited)
      assert.equal(await page.inputValue(`#param-${name}`), String(value), `${name} after a reload`);
  }
  return rows;
}

/**
 * How every test uses a page: opens it with `open` (`openPage` here, or Firefox's), runs `body`
 * on it, insists on no console errors (except those matching `ignore`), and closes it whatever
 * happened. Resolves to what `body` resolved to.
 * @template {{errors: string[], close: () => Promise<unknown>}} S
 * @template R
 * @param {() => Promise<S>} open
 * @param {(session: S) => Promise<R>} body
 * @param {{ignore?: RegExp}} [options]
 * @returns {Promise<R>}
 */
export async function onPage(open, body, { ignore } = {}) {
  const session = await open();
  try {
    const result = await body(session);
    assert.deepEqual(
      session.errors.filter((e) => !ignore?.test(e)),
      [],
    );
    return result;
  } finally {
    await session.close();
  }
}

/**
 * The simulated site answers 404s and 500s on purpose, the black hole is aborted, and a host that
 * does not exist fails: the browser logs each as a failed load. Anything else is a real error.
 */
export const EXPECTED_NETWORK_NOISE = /Failed to load resource|net::ERR_/;

/**
 * The catalog as the home page lists it, in order: [{id, chapter}]. Works with playwright's and
 * puppeteer's pages alike.
 * @param {{$$eval: Function}} page
 * @returns {Promise<{id: string, chapter: string}[]>}
 */
export async function readCatalog(page) {
  return page.$$eval('#topics section', (/** @type {Element[]} */ sections) =>
    sections.flatMap((section) => {
      const chapter = section.querySelector('h2')?.textContent ?? '';
      return [...section.querySelectorAll('a[data-topic]')].map((a) => ({
        id: /** @type {HTMLElement} */ (a).dataset.topic ?? '',
        chapter,
      }));
    }),
  );
}

/**
 * What the page shows of the last run: its status line, self-checks and timing rows.
 * @param {{evaluate: Function}} page
 * @returns {Promise<{status: string, checks: {ok: boolean, text: string}[], modes: {mode: string, status: string, text: string}[]}>}
 */
export async function shownRun(page) {
  return page.evaluate(() => ({
    status: document.querySelector('#results .status')?.textContent ?? '',
    checks: [...document.querySelectorAll('.checks li')].map((li) => ({
      ok: li.classList.contains('pass'),
      text: li.textContent ?? '',
    })),
    modes: [...document.querySelectorAll('table.timings tbody tr')].map((tr) => ({
      mode: /** @type {HTMLElement} */ (tr).dataset.mode ?? '',
      status: tr.className.replace('mode-', ''),
      text: tr.textContent ?? '',
    })),
  }));
}

/**
 * The catalog test, for any browser: reads the catalog from the home page at `url` (threads on,
 * or off if `threads` is false), then one subtest of `t` per topic, in catalog order: opens the
 * topic's page, runs it `runs` times with its defaults (`run` presses Run and resolves to
 * `shownRun`), asserts each run passed, saves a screenshot `<shots>/<id>` if `shots`, and insists
 * on no console error.
 * @template {{page: any, errors: string[], close: () => Promise<unknown>}} S
 * @param {import('node:test').TestContext} t
 * @param {{url: string, open: (url: string) => Promise<S>, run: (page: S['page']) => Promise<Awaited<ReturnType<typeof shownRun>>>, runs?: number, shots?: boolean | string, ignore?: RegExp, threads?: boolean, tries?: number, timingReported?: RegExp}} how
 *   `tries`: attempts per topic, each on a fresh page (see `untilPassed`); `timingReported`: see `assertRunPassed`
 */
export async function testCatalog(
  t,
  { url, open, run, runs = 1, shots = false, ignore, threads = true, tries = 1, timingReported },
) {
  const catalog = await onPage(
    () => open(url),
    async ({ page }) => {
      assert.equal(
        await page.evaluate(() => document.documentElement.dataset.threads),
        String(threads),
        `threads ${threads ? 'on' : 'off'}`,
      );
      return readCatalog(page);
    },
  );
  assert.ok(catalog.length > 0, 'the catalog lists topics');
  for (const { id } of catalog) {
    await t.test(id, () =>
      untilPassed(tries, id, () =>
        onPage(
          () => open(`${url}index.html?topic=${id}`),
          async ({ page }) => {
            // Without threads, a topic whose every mode needs them says so before and after Run.
            const notice = threads
              ? ''
              : await page.evaluate(() => document.querySelector('.notice.isolation')?.textContent ?? '');
            for (let r = 1; r <= runs; r++) {
              const shown = await run(page);
              if (/cannot run here/.test(notice))
                assert.match(
                  shown.status,
                  /^Nothing could run here: every mode of .* uses shared-memory threads, which this page does not have\. \S/,
                  shown.status,
                );
              else assertRunPassed(shown, runs > 1 ? `run ${r}` : '', { threads, timingReported });
            }
            if (shots) await shoot(page, `${typeof shots === 'string' ? shots : 'catalog'}/${id}`);
          },
          { ignore },
        ),
      ),
    );
  }
}

/**
 * Runs `attempt` up to `tries` times on a fresh page until it passes, for browsers driven on two
 * shared cores where another process can disturb a timing claim (a run is measured again, as
 * `holdsOnSomeRun` does): every failure before the last is printed, the last one thrown.
 * @template R
 * @param {number} tries
 * @param {string} label
 * @param {() => Promise<R>} attempt
 * @returns {Promise<R>}
 */
export async function untilPassed(tries, label, attempt) {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= tries) throw error;
      console.log(
        `# ${label}: attempt ${i} of ${tries} failed, measuring again: ${String(/** @type {Error} */ (error).message)
          .split('\n')[0]
          .slice(0, 300)}`,
      );
    }
  }
}

/**
 * A run with defaults passed: it finished, showed self-checks that all pass, and every mode ran
 * (on a page without threads, every mode but those that need them, which say so).
 * @param {Awaited<ReturnType<typeof shownRun>>} shown
 * @param {string} [label] prefixed to failures
 * @param {{threads?: boolean, timingReported?: RegExp}} [options] `timingReported`: failed checks
 *   matching it are printed instead of failing the test (timing claims, where a browser's threads
 *   are known to be slow: see the README's "Supported browsers")
 */
export function assertRunPassed(shown, label = '', { threads = true, timingReported = undefined } = {}) {
  const at = label ? `${label}: ` : '';
  assert.match(shown.status, /^Finished/, `${at}${shown.status}`);
  assert.ok(shown.checks.length > 0, `${at}no self-checks shown`);
  for (const check of shown.checks) {
    if (!check.ok && timingReported?.test(check.text))
      console.log(`# ${at}timing claim reported, not asserted: ${check.text}`);
    else assert.ok(check.ok, `${at}${check.text}`);
  }
  for (const mode of shown.modes) {
    if (!threads && mode.status === 'unavailable') continue;
    assert.equal(mode.status, 'ok', `${at}${mode.mode}: ${mode.text}`);
  }
  assert.ok(
    shown.modes.some((mode) => mode.status === 'ok'),
    `${at}no mode ran`,
  );
}

/**
 * A full-page screenshot in test-results/ (gitignored; look at them after a run). `name` may hold a folder.
 * @param {{screenshot: (options: {path: string, fullPage: boolean}) => Promise<unknown>}} page playwright's or puppeteer's
 * @param {string} name
 */
export async function shoot(page, name) {
  mkdirSync(dirname(`test-results/${name}`), { recursive: true });
  await page.screenshot({ path: `test-results/${name}.png`, fullPage: true });
}

/**
 * A result table by its title: rows of cell texts, or null.
 * @param {PageOrFrame} page
 * @param {string} title
 */
export async function table(page, title) {
  return page.$$eval(
    'section.result-table',
    (sections, wanted) => {
      const found = sections.find((s) => s.querySelector('h3')?.textContent === wanted);
      return found
        ? [...found.querySelectorAll('tbody tr')].map((tr) =>
            [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
          )
        : null;
    },
    title,
  );
}

/**
 * Reads the timing table: {modeId: {wall, speedup, status, result, lanes}}.
 * @param {PageOrFrame} page
 */
export async function timings(page) {
  return page.$$eval('table.timings tbody tr', (rows) =>
    Object.fromEntries(
      rows.map((row) => {
        const cells = [...row.querySelectorAll('td')].map((c) => c.textContent ?? '');
        return [
          /** @type {string} every timing row names its mode */ (/** @type {HTMLElement} */ (row).dataset.mode),
          {
            wall: cells[0],
            speedup: cells[1],
            lanes: Number(cells[2] || 0),
            result: cells[3],
            note: cells[4],
            status: row.className.replace('mode-', ''),
          },
        ];
      }),
    ),
  );
}

/**
 * The self-checks shown after a run: [{ok, text}].
 * @param {PageOrFrame} page
 */
export async function checks(page) {
  return page.$$eval('.checks li', (items) =>
    items.map((li) => ({ ok: li.classList.contains('pass'), text: li.textContent ?? '' })),
  );
}

/**
 * Timing claims on two shared cores: `claims(walls)` returns the claims that fail for one run's
 * wall times ({modeId: ms}) and self-checks (empty when all hold). A run that another process
 * disturbed is measured again, up to `tries` runs on the page; the claims must all hold in one.
 * Asserts that, naming every attempt.
 * @param {import('playwright-core').Page} page
 * @param {(walls: Record<string, number>, checks: {ok: boolean, text: string}[]) => string[]} claims
 */
export async function holdsOnSomeRun(page, claims, tries = 3) {
  const attempts = [];
  for (let i = 0; i < tries; i++) {
    if (i > 0) await runAndWait(page);
    const walls = Object.fromEntries(Object.entries(await timings(page)).map(([id, row]) => [id, toMs(row.wall)]));
    const failed = claims(walls, await checks(page));
    attempts.push({ walls, failed });
    if (!failed.length) return walls;
  }
  assert.fail(`timing claims failed on ${tries} runs: ${JSON.stringify(attempts)}`);
}

/**
 * Converts "1.25 s" / "12.3 ms" to milliseconds.
 * @param {string} text
 */
export function toMs(text) {
  const match = /([\d.]+)\s*(ms|s)/.exec(text);
  if (!match) return NaN;
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}
