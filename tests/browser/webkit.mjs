// WebKit for the browser tests: Debian's WebKitGTK MiniBrowser (the engine of Safari and of every
// iPhone and iPad browser), driven over classic WebDriver by webkit2gtk-driver's WebKitWebDriver
// with selenium-webdriver. MiniBrowser needs a display: each session gets an Xvfb of its own.
//
// `sharedMemory` sets JavaScriptCore's `JSC_useSharedArrayBuffer=1` in the browser's environment:
// Safari turns shared memory on for cross-origin isolated pages, WebKitGTK leaves it off, so
// without the switch WebKitGTK runs the playground's plain build, as Safari does on a page that is
// not isolated (an ordinary course site).

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

import { Builder } from 'selenium-webdriver';

export const MINIBROWSER = process.env.MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts Xvfb on a display it picks itself (`-displayfd`); resolves to that display and the process.
 * @returns {Promise<{display: string, process: import('node:child_process').ChildProcess}>}
 */
function startXvfb() {
  return new Promise((resolve, reject) => {
    const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let said = '';
    xvfb.stdio[3]?.on('data', (chunk) => {
      said += chunk;
      if (said.includes('\n')) resolve({ display: `:${said.trim()}`, process: xvfb });
    });
    xvfb.once('error', reject);
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code}) before it named its display`)));
  });
}

/**
 * Waits until a WebDriver server answers its status.
 * @param {string} url
 */
async function whenUp(url, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/status`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`WebKitWebDriver did not answer at ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A MiniBrowser session: `driver` (selenium-webdriver), `open(url)` for the catalog helpers, and
 * `close()` that ends the browser, its driver and its display.
 * @param {{sharedMemory: boolean}} options
 */
export async function launchWebKit({ sharedMemory }) {
  const xvfb = await startXvfb();
  const port = await freePort();
  /** @type {NodeJS.ProcessEnv} */
  // A learner's browser has a language: under LANG=C WebKitGTK reports "C", which Intl refuses.
  const env = { ...process.env, DISPLAY: xvfb.display, LANG: 'en_US.UTF-8' };
  if (sharedMemory) env.JSC_useSharedArrayBuffer = '1';
  else delete env.JSC_useSharedArrayBuffer;
  const webdriver = spawn('WebKitWebDriver', [`--port=${port}`, '--host=127.0.0.1'], { env, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    webdriver.kill();
    xvfb.process.kill();
  };
  try {
    await whenUp(url);
    const driver = await new Builder()
      .usingServer(url)
      .withCapabilities({
        browserName: 'MiniBrowser',
        'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
      })
      .build();
    await driver.manage().window().setRect({ width: 1280, height: 1000 });
    await driver.manage().setTimeouts({ script: 120_000, pageLoad: 60_000 });
    return {
      driver,
      open: (/** @type {string} */ to) => openIn(driver, to),
      close: async () => {
        await driver.quit().catch(() => {});
        stop();
      },
    };
  } catch (error) {
    stop();
    throw error;
  }
}

/**
 * What the page reports of errors: classic WebDriver has no console log, so the page keeps its
 * own list from the moment it is opened (uncaught errors, unhandled rejections, console.error).
 */
const WATCH_ERRORS = `
  if (!window.__errors) {
    window.__errors = [];
    addEventListener('error', (e) => window.__errors.push(String(e.message || e)));
    addEventListener('unhandledrejection', (e) => window.__errors.push('unhandled rejection: ' + String(e.reason && e.reason.message || e.reason)));
    const original = console.error.bind(console);
    console.error = (...args) => { window.__errors.push(args.map(String).join(' ')); original(...args); };
  }`;

/**
 * A page-like object over the one window of `driver`, shaped like the puppeteer and playwright
 * pages the shared helpers take (`evaluate`, `$$eval`, `screenshot`), opened at `url` and ready.
 * @param {import('selenium-webdriver').WebDriver} driver
 * @param {string} url
 */
export async function openIn(driver, url, { readyTimeout = 45_000 } = {}) {
  await driver.get(url);
  await driver.executeScript(WATCH_ERRORS);
  const page = new WebKitPage(driver);
  await page.waitFor(() => document.body.dataset.ready === 'true', readyTimeout, 'the page to be ready');
  return { page, errors: page.errors, close: () => page.drainErrors() };
}

export class WebKitPage {
  /** @param {import('selenium-webdriver').WebDriver} driver */
  constructor(driver) {
    this.driver = driver;
    /** @type {string[]} what the page reported so far (see `drainErrors`) */
    this.errors = [];
  }

  /** Moves the errors the page has noted since the last call into `errors`. */
  async drainErrors() {
    this.errors.push(
      ...(await this.evaluate(() => /** @type {any} */ (window).__errors?.splice(0) ?? []).catch(() => [])),
    );
  }

  /**
   * Runs `fn(...args)` in the page; a promise it returns is awaited (WebDriver's execute script does).
   * @template R
   * @param {(...args: any[]) => R} fn
   * @param {...any} args
   * @returns {Promise<Awaited<R>>}
   */
  evaluate(fn, ...args) {
    return this.driver.executeScript(`return (${fn}).apply(null, arguments)`, ...args);
  }

  /**
   * `fn` over every element matching `selector`.
   * @param {string} selector
   * @param {(elements: Element[], ...args: any[]) => any} fn
   * @param {...any} args
   */
  $$eval(selector, fn, ...args) {
    return this.driver.executeScript(
      `return (${fn}).apply(null, [[...document.querySelectorAll(arguments[0])], ...[].slice.call(arguments, 1)])`,
      selector,
      ...args,
    );
  }

  /**
   * Polls `fn` in the page until it returns something truthy.
   * @param {(...args: any[]) => unknown} fn
   * @param {number} timeoutMs
   * @param {string} what for the error
   * @param {...any} args
   */
  async waitFor(fn, timeoutMs, what, ...args) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = await this.evaluate(fn, ...args);
      if (value) return value;
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** @param {string} selector */
  click(selector) {
    return this.evaluate(
      (/** @type {string} */ s) => /** @type {HTMLElement} */ (document.querySelector(s)).click(),
      selector,
    );
  }

  /**
   * The window's screenshot (WebDriver has no full-page one).
   * @param {{path: string}} options
   */
  async screenshot({ path }) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, Buffer.from(await this.driver.takeScreenshot(), 'base64'));
  }
}
