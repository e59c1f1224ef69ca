// No promise left hanging (issue 24): switching fast, many times, between topics that different
// engine parts run (each switch replaces the engine worker) while a field is being edited, with
// the topic links and back/forward, leaves a page whose topic then runs and passes; the embed
// helper's promises reject when their iframe is removed or navigated; and keys named like
// Object.prototype's properties (`__proto__`, `constructor`, `toString`) in the URL or the embed
// protocol get a clear answer and break nothing.

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  ask,
  assertRunPassed,
  onPage,
  openCoursePage,
  openEmbedCourse,
  openPage,
  runAndWait,
  shownRun,
  startServer,
  useBrowser,
} from './harness.mjs';

const env = useBrowser();

/** One topic of each engine part, and a field of its form with a valid value other than its default. */
const EDITS = {
  'cpu-map': ['numbers', '2000000'],
  'threads-basics': ['numbers', '3'],
  race: ['withdrawals', '40'],
  'process-pool': ['ranges', '3'],
  'image-resize': ['preview', '120'],
  'async-basics': ['wait_s', '0.3'],
  'async-fetch': ['threads', '4'],
  scraper: ['concurrency', '2'],
  actor: ['senders', '2'],
  compare: ['tasks', '6'],
};
const TOPICS = Object.keys(EDITS);
const ROUNDS = 20;

/**
 * A small deterministic generator (a failing round can be replayed from its seed).
 * @param {number} seed
 */
function random(seed) {
  let x = seed >>> 0 || 1;
  return (/** @type {number} */ n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

describe('switching topics of different engine parts, fast, mid-edit', () => {
  test(`${ROUNDS} rounds of links, edits and back/forward; the topic shown then runs and passes`, async () => {
    await onPage(
      () => openPage(env.browser, `${env.url}index.html?topic=cpu-map&numbers=2000000`),
      async ({ page }) => {
        // Every engine worker the page starts: a switch of part starts one, and nothing else should.
        let engines = 0;
        page.on('worker', (worker) => worker.url().includes('engine-worker.js') && engines++);
        // Back and forward stay on the playground's entries (not the blank page it was opened from).
        await page.evaluate(() => {
          window.stayOnPage = (/** @type {number} */ step) => {
            const at = navigation.currentEntry?.index ?? -1;
            const entry = navigation.entries()[at + step];
            return entry?.url ? new URL(entry.url).origin === location.origin : false;
          };
        });
        for (let round = 1; round <= ROUNDS; round++) {
          const pick = random(round * 7919);
          for (let step = 0; step < 10; step++) {
            const action = pick(5);
            if (action <= 1) await page.click(`#topics a[data-topic="${TOPICS[pick(TOPICS.length)]}"]`);
            else if (action === 2) await page.evaluate(() => window.stayOnPage(-1) && history.back());
            else if (action === 3) await page.evaluate(() => window.stayOnPage(1) && history.forward());
            else {
              // Typing into the field of whatever topic is shown (a back or forward may be under way).
              const id = await page.evaluate(() => new URLSearchParams(location.search).get('topic') ?? '');
              const [name, value] = Object.hasOwn(EDITS, id) ? EDITS[/** @type {keyof typeof EDITS} */ (id)] : ['', ''];
              if (name)
                await page
                  .locator(`#param-${name}`)
                  .pressSequentially(value, { delay: 5, timeout: 2000 })
                  .catch(() => {}); // the form may be replaced mid-typing
            }
            await page.waitForTimeout(pick(60));
          }
          // The topic that ended up shown: its field gets a valid value (a half-typed one would be
          // refused), then it runs.
          await page.waitForTimeout(300); // the last back/forward has landed
          const id = await page.evaluate(() => new URLSearchParams(location.search).get('topic') ?? '');
          assert.ok(Object.hasOwn(EDITS, id), `round ${round}: the page shows ${id}`);
          const [name, value] = EDITS[/** @type {keyof typeof EDITS} */ (id)];
          await page.fill(`#param-${name}`, value);
          assert.equal(
            await page.textContent('h1'),
            await page.textContent(`#topics a[data-topic="${id}"]`),
            `round ${round}: the heading is ${id}'s`,
          );
          await page.waitForFunction(
            () => !(/** @type {HTMLButtonElement | null} */ (document.getElementById('run'))?.disabled),
            null,
            { timeout: 30_000 },
          );
          await runAndWait(page);
          assertRunPassed(await shownRun(page), `round ${round} (${id})`);
          assert.equal(await page.inputValue(`#param-${name}`), value, `round ${round}: the edited value stayed`);
          const ran = await page.evaluate(() => document.querySelector('#results .status')?.textContent ?? '');
          assert.doesNotMatch(ran, /switched|restarted/, `round ${round}: ${ran}`);
        }
        // Nothing left over from the switches acts later (a check still waiting on a replaced
        // worker's boot, up to its 30 s limit, would switch the engine back to its topic's part).
        const started = engines;
        await page.waitForTimeout(35_000);
        await runAndWait(page);
        assertRunPassed(await shownRun(page), 'after the switches settled');
        assert.equal(engines, started, 'an engine worker was started after the switches had ended');
      },
    );
  });
});

/**
 * A course page on its own origin with embed.js and one placeholder; resolves once it is ready.
 * @param {string} topic
 */
async function helperCourse(topic) {
  const session = await openCoursePage(
    env.browser,
    `<!doctype html><meta charset="utf-8"><title>A course</title><link rel="icon" href="data:,">
<script src="${env.url}embed.js" defer></script>
<div id="demo" data-concurrency-topic="${topic}"></div>
<script>
window.readies = 0;
document.getElementById('demo').addEventListener('playground:ready', () => window.readies++);
/** How a promise settled: {ok, value} or {ok: false, message, detail}. */
window.settled = (promise) => promise.then((value) => ({ ok: true, type: value.type }), (error) => ({ ok: false, message: error.message, detail: error.detail }));
</script>`,
  );
  await session.page.waitForFunction(() => window.readies > 0, null, { timeout: 30_000 });
  return session;
}

describe("the embed helper's promises settle when their iframe goes away", () => {
  test('removed mid-run: run() and getState() reject saying so, and a request made afterwards at once', {
    timeout: 60_000,
  }, async () => {
    await onPage(
      () => helperCourse('compare'),
      async ({ page }) => {
        const outcome = await page.evaluate(async () => {
          const demo = /** @type {any} */ (document.getElementById('demo'));
          const run = window.settled(demo.run({ tasks: 64, cpu_ms: 200 }));
          await new Promise((resolve) => demo.addEventListener('playground:started', resolve, { once: true }));
          const state = window.settled(demo.getState());
          demo.remove();
          const after = window.settled(demo.getState());
          return { run: await run, state: await state, after: await after };
        });
        assert.equal(outcome.run.ok, false);
        assert.match(outcome.run.message ?? '', /removed from the page before it answered/);
        assert.equal(outcome.run.detail?.type, 'error');
        assert.match(outcome.state.message ?? '', /removed from the page/);
        assert.match(outcome.after.message ?? '', /not in the page \(it was removed\)/);
      },
    );
  });

  test('navigated mid-run: run() rejects; a request made meanwhile is answered by the new document', {
    timeout: 60_000,
  }, async () => {
    await onPage(
      () => helperCourse('compare'),
      async ({ page }) => {
        const outcome = await page.evaluate(async () => {
          const demo = /** @type {any} */ (document.getElementById('demo'));
          const run = window.settled(demo.run({ tasks: 64, cpu_ms: 200 }));
          await new Promise((resolve) => demo.addEventListener('playground:started', resolve, { once: true }));
          const iframe = /** @type {HTMLIFrameElement} */ (demo.querySelector('iframe'));
          const src = new URL(iframe.src);
          src.searchParams.set('topic', 'race');
          iframe.src = src.href;
          const ran = await run;
          const state = await demo.getState();
          return { ran, topic: state.topic?.id };
        });
        assert.equal(outcome.ran.ok, false);
        assert.match(outcome.ran.message ?? '', /navigated to another page before it answered/);
        assert.equal(outcome.topic, 'race');
      },
    );
  });
});

describe("the embed helper's promises settle when its iframe never starts", () => {
  test('a request to an embed that never says ready rejects after the wait, saying why', async () => {
    // embed.js beside an embed.html that loads but is not the playground (a wrong address).
    const dir = mkdtempSync(join(tmpdir(), 'course-'));
    copyFileSync('www/embed.js', join(dir, 'embed.js'));
    writeFileSync(join(dir, 'embed.html'), '<!doctype html><title>Not the playground</title>');
    writeFileSync(
      join(dir, 'index.html'),
      `<!doctype html><meta charset="utf-8"><title>A course</title><link rel="icon" href="data:,">
<script src="embed.js" defer></script>
<div id="demo" data-concurrency-topic="race"></div>`,
    );
    const server = await startServer({ root: dir, isolation: false });
    try {
      await onPage(
        () => openPage(env.browser, null),
        async ({ page }) => {
          await page.clock.install();
          await page.goto(`${server.url}index.html`);
          await page.waitForFunction(() => document.querySelector('#demo iframe'));
          await page.evaluate(() => {
            const demo = /** @type {any} */ (document.getElementById('demo'));
            window.outcome = demo.run().then(
              () => 'resolved',
              (/** @type {Error} */ error) => error.message,
            );
          });
          await page.clock.runFor(59_000);
          assert.equal(await page.evaluate(() => Promise.race([window.outcome, 'waiting'])), 'waiting');
          await page.clock.runFor(2_000);
          assert.match(
            await page.evaluate(() => Promise.race([window.outcome, 'waiting'])),
            /did not start within 60 s/,
          );
        },
      );
    } finally {
      await server.close();
    }
  });
});

describe('hostile keys: names of Object.prototype properties', () => {
  test('as a topic, a parameter or a panel in the URL: a clear notice, and the page still runs', async () => {
    await onPage(
      () => openPage(env.browser, `${env.url}index.html?topic=__proto__`),
      async ({ page }) => {
        for (const topic of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
          await page.goto(`${env.url}index.html?topic=${topic}`);
          await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
          assert.equal(await page.textContent('.notice'), `There is no topic “${topic}”. Pick one below.`);
        }
        await page.goto(`${env.url}index.html?topic=race&__proto__=1&constructor=2&toString=3&withdrawals=40`);
        await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
        await page.waitForFunction(() => document.querySelectorAll('.notices .notice').length >= 3, null, {
          timeout: 30_000,
        });
        const notices = await page.$$eval('.notices .notice', (list) => list.map((n) => n.textContent ?? ''));
        for (const name of ['__proto__', 'constructor', 'toString'])
          assert.ok(
            notices.some((n) => n.startsWith(`Ignored ${name}=`) && /unknown parameter/.test(n)),
            `${name}: ${notices.join(' | ')}`,
          );
        assert.equal(await page.inputValue('#param-withdrawals'), '40');
        await runAndWait(page);
        assertRunPassed(await shownRun(page));
      },
    );
    await onPage(
      () => openEmbedCourse(env.browser, `${env.url}embed.html?topic=race&panels=__proto__,results`),
      async ({ page }) => {
        const frame = page.frames().find((f) => f.url().includes('embed.html')) ?? assert.fail('no embed frame');
        const problems = await frame.$$eval('.notices .notice', (list) => list.map((n) => n.textContent ?? ''));
        assert.ok(
          problems.some((p) => /Unknown panel __proto__ in panels=/.test(p)),
          problems.join(' | '),
        );
      },
    );
  });

  test('through the embed protocol: a topic or parameter names get an error naming them, then a valid run passes', async () => {
    await onPage(
      () => openEmbedCourse(env.browser, `${env.url}embed.html?topic=race`),
      async ({ page }) => {
        for (const topic of ['__proto__', 'constructor', 'toString']) {
          const reply = await ask(page, { type: 'run', requestId: `topic-${topic}`, topic });
          assert.equal(reply.type, 'error');
          assert.equal(reply.message, `Unknown topic: "${topic}".`);
        }
        // Own keys named like Object.prototype's (what JSON.parse makes of them), sent as they are.
        const replies = await page.evaluate(async () => {
          const params = JSON.parse(
            '{"__proto__": {"balance": 5}, "constructor": 1, "toString": "x", "withdrawals": 40}',
          );
          const answers = [];
          for (const type of ['run', 'setParams']) {
            const requestId = `keys-${type}`;
            const before = window.replies.length;
            window.send({ type, requestId, topic: 'race', params });
            for (
              let waited = 0;
              waited < 30_000 && !window.replies.slice(before).some((r) => r.requestId === requestId);
              waited += 20
            )
              await new Promise((r) => setTimeout(r, 20));
            answers.push(window.replies.slice(before).find((r) => r.requestId === requestId));
          }
          return answers;
        });
        for (const reply of replies) {
          assert.equal(reply?.type, 'error', JSON.stringify(reply));
          const fields = reply.errors.map((/** @type {{field: string}} */ e) => e.field);
          for (const name of ['__proto__', 'constructor', 'toString'])
            assert.ok(fields.includes(name), `${name} in ${JSON.stringify(reply.errors)}`);
        }
        const state = await ask(page, { type: 'getState', requestId: 'state' });
        assert.equal(state.type, 'state');
        assert.equal(state.topic.id, 'race');
        const result = await ask(page, { type: 'run', requestId: 'valid', topic: 'race', params: { withdrawals: 40 } });
        assert.equal(result.type, 'result', JSON.stringify(result).slice(0, 300));
        assert.ok(
          result.checks.every((/** @type {{ok: boolean}} */ c) => c.ok),
          JSON.stringify(result.checks),
        );
      },
    );
  });
});
