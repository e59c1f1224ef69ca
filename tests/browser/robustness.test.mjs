// Nothing wedges the playground (issue 15). The embed as a hostile course page would drive it: a
// few hundred random messages, two runs at once, values JSON cannot carry; every message gets
// exactly one answer with its requestId, and a valid run passes afterwards. Faults injected into
// a run (memory exhausted, a thread that panics, isolated workers and the engine itself lost, the
// engine's own thread blocked) end that run with a message, and the next run passes. URL values
// that fail a cross-field check really fall back to defaults, and a thread-only topic on a page
// without isolation says that nothing could run here.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, test } from 'node:test';

import {
  ask,
  checks,
  onPage,
  openEmbedCourse,
  openPage,
  runAndWait,
  shoot,
  startServer,
  textOf,
  timings,
  useBrowser,
} from './harness.mjs';

const env = useBrowser();

/** @typedef {import('playwright-core').Page} Page */

/** A course page of its own origin around the embed at `base` + `query` (harness.mjs). */
const coursePage = (/** @type {string} */ base, /** @type {string} */ query) =>
  openEmbedCourse(env.browser, `${base}embed.html${query}`);

/**
 * The engine worker of the page (of the frame whose URL starts with `origin`, if given).
 * @param {Page} page
 */
function engineWorker(page, origin = '') {
  const workers = page.workers().filter((w) => w.url().includes('engine-worker.js') && w.url().startsWith(origin));
  assert.ok(workers.length > 0, 'no engine worker');
  return workers[workers.length - 1];
}

/**
 * Injects a fault into the engine worker as only code running inside it can (see engine-worker.js).
 * @param {import('playwright-core').Worker} worker
 * @param {'fill-memory' | 'thread-panic'} kind
 */
async function fault(worker, kind) {
  await worker.evaluate(
    (k) => self.dispatchEvent(new MessageEvent('message', { data: { type: 'fault', kind: k } })),
    kind,
  );
}

/** A real PNG like the issue's: 7071 x 7071 pixels of 16-bit RGBA (all zero), about 390 KB. */
function hugeDeepPng() {
  const [w, h] = [7071, 7071];
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (/** @type {Uint8Array} */ bytes) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (/** @type {string} */ type, /** @type {Buffer} */ body) => {
    const out = Buffer.alloc(12 + body.length);
    out.writeUInt32BE(body.length, 0);
    out.write(type, 4, 'latin1');
    body.copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + body.length)), 8 + body.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(h, 4);
  header.set([16, 6, 0, 0, 0], 8);
  const rows = deflateSync(Buffer.alloc(h * (1 + w * 8)), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', rows),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('the embed answers every message, exactly once', () => {
  test('a few hundred random messages, two runs at once, unserializable values; then a valid run passes', async () => {
    await onPage(
      () => coursePage(env.url, '?topic=gil&limit=2000000'),
      async ({ page }) => {
        // Phase 1: a valid run, then 300 random messages in the same task, without waiting.
        const burst = await page.evaluate(fuzzBurst, { count: 300, seed: 15 });
        await page.waitForFunction((n) => window.replies.length >= n, burst.expected + 1, { timeout: 90_000 });
        await page.waitForTimeout(300); // time for a stray second answer to show up
        const replies = await page.evaluate(() => window.replies.filter((r) => r.type !== 'ready'));
        assert.equal(replies.length, burst.expected, 'one answer per message');
        /** @type {Map<unknown, number>} */
        const byId = new Map();
        for (const r of replies) byId.set(r.requestId, (byId.get(r.requestId) ?? 0) + 1);
        for (const id of burst.ids) assert.equal(byId.get(id), 1, `answers to ${id}`);
        assert.equal(byId.get(null) ?? 0, burst.withoutId, 'answers to messages without a usable requestId');
        // The run came back as itself; everything else was refused at once, before it ended.
        const first = replies.findIndex((r) => r.requestId === 'first');
        assert.equal(replies[first].type, 'result', JSON.stringify(replies[first]));
        assert.equal(replies[first].topic, 'process-basics');
        assert.equal(replies[first].params.workers, 2);
        assert.equal(first, replies.length - 1, 'errors do not wait for a run');
        for (const r of replies.slice(0, -1)) {
          assert.equal(r.type, 'error', JSON.stringify(r).slice(0, 300));
          assert.ok(JSON.stringify(r).length < 4000, 'echoes are cut');
        }
        const busy = replies.filter((r) => /^Busy: request "first" \(process-basics\)/.test(r.message));
        assert.ok(busy.length >= 1, 'a run request during a run is refused, naming the running one');

        // Phase 2: 100 random parameter sets one at a time (validated by Rust, some run).
        let ran = 0;
        for (let i = 0; i < 100; i++) {
          const message = await page.evaluate(fuzzParams, { seed: 1000 + i, id: `p${i}` });
          const reply = await ask(page, message);
          if (reply.type === 'result') {
            ran++;
            assert.equal(reply.topic, 'process-basics');
            assert.equal(reply.status, 'ok');
          } else {
            assert.equal(reply.type, 'error');
            assert.ok(reply.errors.length > 0, `${reply.message}: no field named`);
            for (const e of reply.errors) assert.ok(e.field.length <= 41, e.field);
          }
        }

        // The cases of the issue, one by one.
        const twoAtOnce = await page.evaluate(() => {
          window.send({ type: 'run', topic: 'process-basics', params: { workers: 2, limit: 1000 }, requestId: 'a' });
          window.send({ type: 'run', topic: 'mixed', params: { inputs: 2 }, requestId: 'b' });
          return window.replies.length;
        });
        await page.waitForFunction(
          (n) => ['a', 'b'].every((id) => window.replies.slice(n).some((r) => r.requestId === id)),
          twoAtOnce,
          { timeout: 60_000 },
        );
        const [a, b] = await page.evaluate(
          (n) =>
            ['a', 'b'].map(
              (id) =>
                /** @type {EmbedMessage} waited for above */ (window.replies.slice(n).find((r) => r.requestId === id)),
            ),
          twoAtOnce,
        );
        assert.equal(a.type, 'result');
        assert.equal(a.topic, 'process-basics');
        assert.equal(b.type, 'error');
        assert.match(b.message, /^Busy: request "a" \(process-basics\)/);
        const io = await ask(page, {
          type: 'run',
          topic: 'io-compare',
          params: { count: 3, latency_ms: 20 },
          requestId: 'io',
        });
        assert.equal(io.type, 'result', JSON.stringify(io));
        assert.equal(io.topic, 'io-compare');
        assert.equal(io.params.count, 3);

        const bigint = await page.evaluate(() => {
          window.send({ type: 'run', topic: 'gil', params: { limit: 10n }, requestId: 'bigint' });
          /** @type {{limit: number, self?: object}} */
          const cyclic = { limit: 3 };
          cyclic.self = cyclic;
          window.send({ type: 'run', topic: 'gil', params: cyclic, requestId: 'cyclic' });
          window.send({ type: 'run', topic: 'gil', params: { limit: NaN, switch_ms: Infinity }, requestId: 'nan' });
          /** @type {unknown[]} */
          let deep = [1];
          for (let i = 0; i < 200; i++) deep = [deep];
          window.send({ type: 'run', topic: 'gil', params: { limit: deep }, requestId: 'deep' });
          window.send({ type: 'run', topic: 'gil', params: { limit: 'a\uD800' }, requestId: 'surrogate' });
          window.send({ type: 'hello', requestId: 'unknown-type' });
          window.send({ type: 'run', topic: 'gil', params: { ['k'.repeat(5_000_000)]: 1 }, requestId: 'long-key' });
          return window.replies.length;
        });
        const ids = ['bigint', 'cyclic', 'nan', 'deep', 'surrogate', 'unknown-type', 'long-key'];
        await page.waitForFunction(
          ([n, want]) => want.every((id) => window.replies.slice(n).some((r) => r.requestId === id)),
          /** @type {const} */ ([bigint, ids]),
          { timeout: 10_000 },
        );
        const answers = Object.fromEntries(
          await page.evaluate(
            ([n, want]) =>
              want.map((id) => [
                id,
                /** @type {EmbedMessage} waited for above */ (window.replies.slice(n).find((r) => r.requestId === id)),
              ]),
            /** @type {const} */ ([bigint, ids]),
          ),
        );
        for (const id of ids) assert.equal(answers[id].type, 'error', id);
        const fields = (/** @type {string} */ id) => answers[id].errors.map((e) => e.field).sort();
        assert.deepEqual(fields('bigint'), ['limit']);
        assert.match(answers.bigint.errors[0].message, /BigInt/);
        assert.deepEqual(fields('cyclic'), ['self']);
        assert.deepEqual(fields('nan'), ['limit', 'switch_ms']);
        assert.deepEqual(fields('deep'), ['limit']);
        assert.deepEqual(fields('surrogate'), ['limit']);
        assert.match(answers['unknown-type'].message, /Unknown message type "hello"/);
        assert.equal(answers['long-key'].errors[0].field, `${'k'.repeat(40)}…`);
        assert.ok(JSON.stringify(answers['long-key']).length < 1000);

        // Finally a valid run passes, its checks too.
        const result = await ask(page, { type: 'run', topic: 'gil', params: { limit: 3000000 }, requestId: 'last' });
        assert.equal(result.type, 'result', JSON.stringify(result));
        assert.equal(result.status, 'ok');
        assert.ok(result.checks.length > 0 && result.checks.every((c) => c.ok), JSON.stringify(result.checks));
        console.log(
          `fuzz: ${burst.sent + 100 + 2 + 1 + ids.length} messages tried, all answered once; phase 2 ran ${ran} of 100; valid runs afterwards passed`,
        );
      },
    );
  });
});

/**
 * Runs in the course page: a valid run ("first"), then `count` random messages (odd shapes,
 * unknown types and topics, values JSON cannot carry, huge and nested ones) in the same task.
 * @param {{count: number, seed: number}} options
 * @returns {{sent: number, expected: number, ids: (string | number)[], withoutId: number}}
 */
function fuzzBurst({ count, seed }) {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  /** @type {<T>(list: T[]) => T} */
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const deep = (/** @type {number} */ n) => {
    /** @type {unknown[]} */
    let v = [1];
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  const values = [
    () => 10n ** 30n,
    () => NaN,
    () => -Infinity,
    () => {
      /** @type {{a: number, me?: object}} */
      const o = { a: 1 };
      o.me = o;
      return o;
    },
    () => new Date(0),
    () => new Map([[1, 2]]),
    () => new Uint8Array(4),
    () => /x/,
    () => new Blob(['x']),
    () => 'x'.repeat(100_000),
    () => '\uDC00',
    () => deep(rand() < 0.5 ? 40 : 300),
    () => null,
    () => undefined,
    () => true,
    () => -1,
    () => 1e308,
    () => 0.5,
    () => '12',
    () => '<img src=x onerror=alert(1)>',
    () => [1, 2, 3],
    () => ({ nested: { big: 1n } }),
  ];
  const keys = [
    'limit',
    'workers',
    'count',
    'latency_ms',
    'files',
    'x',
    '__proto__',
    'constructor',
    'k'.repeat(2000),
    '\uD800',
    '',
  ];
  const params = () =>
    pick([
      () => undefined,
      () => 'params',
      () => [1],
      () => pick(values)(),
      () => Object.fromEntries(Array.from({ length: 1 + Math.floor(rand() * 4) }, () => [pick(keys), pick(values)()])),
    ])();
  const topics = [
    'gil',
    'io-compare',
    'process-basics',
    'race',
    'mixed',
    'image-resize',
    'nope',
    '',
    'GIL',
    42,
    null,
    undefined,
    { id: 'gil' },
  ];
  // 'stop', 'getState' and 'setParams' are commands (embed.test.mjs): here only runs and junk.
  const types = ['run', 'run', 'run', 'RUN', 'result', 'ready', 'error', 'halt', '', undefined, 5, { t: 1 }];
  const shapes = [
    () => 'run',
    () => 42,
    () => null,
    () => undefined,
    () => [1, 2],
    () => true,
    () => 5n,
    () => new Date(0),
  ];
  /** @type {(string | number)[]} */
  const ids = [];
  let withoutId = 0;
  window.send({ type: 'run', topic: 'process-basics', params: { workers: 2, limit: 100000 }, requestId: 'first' });
  for (let i = 0; i < count; i++) {
    const r = rand();
    if (r < 0.08) {
      window.send(pick(shapes)());
      withoutId++;
      continue;
    }
    /** @type {Record<string, unknown>} a message of any shape: that is the point */
    const message = { type: pick(types), topic: pick(topics), params: params() };
    const kind = rand();
    if (kind < 0.9) {
      const id = kind < 0.8 ? i : `r${i}`;
      message.requestId = id;
      ids.push(id);
    } else {
      message.requestId = pick([undefined, null, { n: i }, 7n, 'y'.repeat(300)]);
      withoutId++;
    }
    window.send(message);
  }
  return { sent: count + 1, expected: count + 1, ids: ['first', ...ids], withoutId };
}

/**
 * Runs in the course page: a random parameter set for process-basics (mostly invalid, cheap when valid).
 * @param {{seed: number, id: string}} options
 */
function fuzzParams({ seed, id }) {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  /** @type {<T>(list: T[]) => T} */
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const values = [
    () => -1,
    () => 0,
    () => 17,
    () => '12',
    () => '3',
    () => 2.5,
    () => 'lots',
    () => true,
    () => [2],
    () => ({ n: 2 }),
    () => '',
    () => 200000001,
    () => ' 4 ',
    () => '1_000',
  ];
  const keys = ['workers', 'limit', 'workers', 'limit', 'extra', 'k'.repeat(100)];
  const params = Object.fromEntries(
    Array.from({ length: 1 + Math.floor(rand() * 3) }, () => [pick(keys), pick(values)()]),
  );
  return { type: 'run', topic: 'process-basics', params, requestId: id };
}

describe('values that fail a cross-field check, and topics that cannot run here', () => {
  test('a URL failing a cross-field check gets the default it is told about, and runs', async () => {
    await onPage(
      () => openPage(env.browser, `${env.url}?topic=io-compare&count=1000&latency_ms=5000`),
      async ({ page }) => {
        assert.match(await textOf(page, '.notice'), /Ignored latency_ms=5000: .*Using the default instead/);
        assert.equal(await page.inputValue('#param-latency_ms'), '100');
        assert.equal(await page.inputValue('#param-count'), '1000');
        assert.equal(new URL(page.url()).searchParams.get('latency_ms'), null, 'the address bar holds what runs');
        // Run is not refused: it starts (and is stopped, 1000 waits take long).
        assert.match(await runAndWait(page, { stopAfterMs: 300 }), /Stopped/);
      },
    );
  });

  test('without isolation, a thread-only topic says nothing could run here and links to a full page', async () => {
    await onPage(
      () => openPage(env.browser, `${env.plainUrl}?topic=primitives&permits=3`),
      async ({ page }) => {
        assert.match(await textOf(page, '.notice.isolation'), /This topic cannot run here/);
        const status = await runAndWait(page);
        assert.match(status, /^Nothing could run here/);
        assert.doesNotMatch(await textOf(page, '#results'), /Finished/);
        assert.match((await page.getAttribute('#results a', 'href')) ?? '', /index\.html\?topic=primitives&permits=3$/);
        await shoot(page, 'primitives-not-isolated');
      },
    );
    await onPage(
      () => coursePage(env.plainUrl, '?topic=primitives'),
      async ({ page }) => {
        const reply = await ask(page, { type: 'run', topic: 'primitives', params: {}, requestId: 1 });
        assert.equal(reply.type, 'error');
        assert.match(reply.message, /^Nothing could run here/);
        assert.match(reply.fullPage, /index\.html\?topic=primitives$/);
      },
    );
  });
});

describe('faults end their run with a message, and the next run passes', () => {
  // A trapped or lost engine leaves a console line; nothing else may.
  const ignore = /RuntimeError|unreachable|panicked|injected fault/;

  /**
   * Starts a run of many seconds (cpu-map with a sweep after the modes), so that `inject` reaches
   * the engine between two of its steps and a thread it makes panic has a worker of its own (a
   * short run once ended first); the run must end saying `ended`, and a small run after it pass.
   * @param {(page: Page) => Promise<void>} inject
   * @param {RegExp} ended
   */
  async function faultMidRun(inject, ended) {
    await onPage(
      () => openPage(env.browser, `${env.url}?topic=cpu-map&tasks=8&numbers=250000000&sweep=8`),
      async ({ page }) => {
        await page.click('#run');
        await page.waitForFunction(() => document.body.dataset.running === 'true');
        await inject(page);
        await page.waitForFunction(() => !document.body.dataset.running, null, { timeout: 30_000 });
        assert.match(await textOf(page, '#results .status'), ended);
        await page.fill('#param-tasks', '2');
        await page.fill('#param-numbers', '1000000');
        assert.match(await runAndWait(page), /^Finished/);
      },
      { ignore },
    );
  }

  test('memory: huge images are a field error; an allocation past the limit mid-run ends the run', async () => {
    const png = hugeDeepPng().toString('base64');
    await onPage(
      () => coursePage(env.url, '?topic=image-resize'),
      async ({ page }) => {
        const files = ['a.png', 'b.png', 'c.png'].map((name) => ({ name, data: png }));
        const refused = await ask(page, { type: 'run', topic: 'image-resize', params: { files }, requestId: 'huge' });
        assert.equal(refused.type, 'error', JSON.stringify(refused).slice(0, 300));
        assert.equal(refused.errors[0].field, 'files');
        assert.match(
          refused.errors[0].message,
          /^a\.png \(7071 x 7071 pixels, 16-bit RGBA PNG\) would need about [\d,]+ MB of memory/,
        );
        const ok = await ask(page, {
          type: 'run',
          topic: 'image-resize',
          params: { size: 'tiny' },
          requestId: 'after',
        });
        assert.equal(ok.type, 'result');
        assert.ok(ok.checks.every((c) => c.ok));
      },
      { ignore },
    );
    await onPage(
      () => openPage(env.browser, `${env.url}?topic=image-resize`),
      async ({ page }) => {
        await fault(engineWorker(page), 'fill-memory');
        const status = await runAndWait(page);
        assert.match(
          status,
          /^The run ran out of memory: it asked for [\d,]+ MB more .* Try smaller files, smaller parameters or fewer workers\./,
        );
        await shoot(page, 'fault-out-of-memory');
        assert.match(await runAndWait(page), /^Finished/);
        assert.ok((await checks(page)).every((c) => c.ok));
      },
      { ignore },
    );
  });

  test('a thread that panics mid-run, on the page and in the embed', async () => {
    await faultMidRun(
      (page) => fault(engineWorker(page), 'thread-panic'),
      /panicked[\s\S]*injected fault: this thread panicked/,
    );
    await onPage(
      () => coursePage(env.url, '?topic=cpu-map'),
      async ({ page }) => {
        const origin = new URL(env.url).origin;
        const pending = page.evaluate(() => {
          window.send({
            type: 'run',
            topic: 'cpu-map',
            params: { tasks: 8, numbers: 250000000, sweep: 8 },
            requestId: 'long',
          });
        });
        await pending;
        await page.frame({ url: /embed\.html/ })?.waitForFunction(() => document.body.dataset.running === 'true');
        await fault(engineWorker(page, origin), 'thread-panic');
        await page.waitForFunction(() => window.replies.some((r) => r.requestId === 'long'), null, { timeout: 30_000 });
        const crashed = await page.evaluate(
          () => /** @type {EmbedMessage} waited for above */ (window.replies.find((r) => r.requestId === 'long')),
        );
        assert.equal(crashed.type, 'error');
        assert.match(crashed.message, /panicked/);
        const next = await ask(page, {
          type: 'run',
          topic: 'cpu-map',
          params: { tasks: 2, numbers: 1000000 },
          requestId: 'next',
        });
        assert.equal(next.type, 'result', JSON.stringify(next).slice(0, 300));
        assert.ok(next.checks.every((c) => c.ok));
      },
      { ignore },
    );
  });

  test('a threaded engine that cannot load: the page tries again, then runs the plain build and says why', async () => {
    // A site whose threaded build is missing (a partial upload, say): every other file is there.
    const root = mkdtempSync(join(tmpdir(), 'no-threads-'));
    for (const entry of readdirSync('www')) if (entry !== 'pkg') symlinkSync(resolve('www', entry), join(root, entry));
    mkdirSync(join(root, 'pkg'));
    for (const entry of readdirSync('www/pkg'))
      if (entry !== 'threads') symlinkSync(resolve('www/pkg', entry), join(root, 'pkg', entry));
    const server = await startServer({ root, isolation: true });
    try {
      await onPage(
        () => openPage(env.browser, `${server.url}?topic=cpu-map`),
        async ({ page }) => {
          assert.equal(await page.evaluate(() => document.documentElement.dataset.threads), 'false');
          assert.match(
            (await page.getAttribute('#isolation', 'title')) ?? '',
            /^The threaded engine failed to start twice \(.+\), so the playground runs its plain build here/,
          );
          assert.match(await textOf(page, '.notice.isolation'), /The threaded engine failed to start twice/);
          assert.match(await runAndWait(page), /^Finished/);
          const modes = await timings(page);
          assert.equal(modes.workers.status, 'ok');
          assert.equal(modes.threads.status, 'unavailable');
          assert.ok((await checks(page)).every((c) => c.ok));
        },
        // The missing files are logged as failed loads, and each failed start as an error.
        {
          ignore:
            /Failed to load resource|failed to start|Failed to fetch|Importing a module script failed|dynamically imported module|404/,
        },
      );
    } finally {
      await server.close();
    }
  });

  test('isolated workers, then the engine itself, lost mid-run', async () => {
    await onPage(
      // Long enough that the pool is still at work when the page shows a job done (the live view
      // redraws once a second): about 2 s for the pool on 2 cores.
      () => openPage(env.browser, `${env.url}?topic=process-pool&lo=0&hi=16000000&ranges=64&workers=2`),
      async ({ page }) => {
        // Workers ended by the browser (here: they close themselves) send no word: their jobs fail.
        await page.click('#run');
        // Once the new pool has finished a job, its workers are ended.
        await page.waitForFunction(
          () => /jobs done: [1-9]/.test(document.querySelector('#results')?.textContent ?? ''),
          null,
          { timeout: 60_000 },
        );
        for (const w of page.workers().filter((x) => x.url().includes('isolated-worker.js')))
          await w.evaluate(() => self.close()).catch(() => {});
        await page.waitForFunction(() => !document.body.dataset.running, null, { timeout: 60_000 });
        assert.match(await textOf(page, '#results'), /the worker was lost/);
        await page.fill('#param-hi', '20000');
        assert.match(await runAndWait(page), /^Finished/);
        assert.ok((await checks(page)).every((c) => c.ok));

        // The engine worker ended mid-run: the page notices, replaces it, and says so.
        await page.fill('#param-hi', '6000000');
        await page.click('#run');
        await page.waitForFunction(() => document.body.dataset.running === 'true');
        await page.waitForTimeout(300);
        await engineWorker(page)
          .evaluate(() => self.close())
          .catch(() => {});
        await page.waitForFunction(() => !document.body.dataset.running, null, { timeout: 30_000 });
        assert.match(await textOf(page, '#results .status'), /^The engine stopped without a word/);
        await page.fill('#param-hi', '20000');
        assert.match(await runAndWait(page), /^Finished/);
        const modes = await timings(page);
        assert.equal(modes.pool.status, 'ok');
      },
      { ignore },
    );
  });

  test('an engine whose own thread blocks mid-run is replaced after 10 s of silence', async () => {
    await faultMidRun(async (page) => {
      // Blocks the engine worker's event loop, as a nested `new Worker()` once did in Firefox: no
      // heartbeat, no answer. Not awaited: the page ends the worker before the loop would end.
      engineWorker(page)
        .evaluate(() => {
          const until = Date.now() + 20_000;
          while (Date.now() < until);
        })
        .catch(() => {});
    }, /^The engine stopped answering for 10 s during the run/);
  });
});
