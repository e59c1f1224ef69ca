// Embedding for course sites (issue 12): the example course page (course-example/) on another
// origin drives a topic through embed.js end to end (run, progress, stop, resize); protocol 1
// (ready, setParams, getState, stop, learners' own runs, the origin restriction, LTI resizing);
// and the embed's display options (panels, compact, theme, autorun), dark mode included.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { ask, checks, onPage, openEmbedCourse, openPage, shoot, startServer, useBrowser } from './harness.mjs';

const env = useBrowser();
/** @type {{close: () => Promise<unknown>}[]} */
const servers = [];
after(() => Promise.all(servers.map((s) => s.close())));

/** The example course page, served from its own origin, pointing at the playground under test. */
async function exampleCourse() {
  const dir = mkdtempSync(join(tmpdir(), 'course-example-'));
  const playground = new URL(env.url).origin;
  for (const file of readdirSync('course-example')) {
    writeFileSync(
      join(dir, file),
      readFileSync(join('course-example', file), 'utf8').replaceAll('http://127.0.0.1:8000', playground),
    );
  }
  const server = await startServer({ root: dir, isolation: false });
  servers.push(server);
  return server.url;
}

/** The embed's own height (what it should report), read inside the frame. */
const ownHeight = (/** @type {import('playwright-core').Frame} */ frame) =>
  frame.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));

describe('the example course page, on another origin, through embed.js', () => {
  test('runs, shows progress, stops, and fits the iframe to the embed', async () => {
    const course = await exampleCourse();
    await onPage(
      () => openPage(env.browser, null, { width: 1100, height: 900 }),
      async ({ page }) => {
        await page.goto(course);
        await page.waitForFunction(() => window.events?.some((m) => m.type === 'ready'), null, { timeout: 30_000 });
        const ready =
          (await page.evaluate(() => window.events.find((m) => m.type === 'ready'))) ?? assert.fail('no ready message');
        assert.equal(ready.protocol, 1);
        assert.ok(ready.topics.includes('cpu-map') && ready.topics.length >= 30);
        assert.equal(ready.topic.id, 'cpu-map');
        assert.equal(typeof ready.capabilities.threads, 'boolean');

        // The helper's iframe: attributed, restricted to this page's origin, titled by the topic.
        const iframe = page.locator('#pool iframe');
        assert.equal(await iframe.getAttribute('allow'), 'cross-origin-isolated');
        assert.equal(await iframe.getAttribute('loading'), 'lazy');
        assert.equal(await iframe.getAttribute('title'), 'CPU-bound work on a pool (Concurrency Playground)');
        const src = new URL((await iframe.getAttribute('src')) ?? '');
        assert.equal(src.searchParams.get('origin'), new URL(course).origin);
        assert.equal(src.searchParams.get('numbers'), '20000000');
        const frame = (await (await iframe.elementHandle())?.contentFrame()) ?? assert.fail('no embed frame');
        assert.equal(await frame.inputValue('#param-numbers'), '20000000');
        assert.equal(await frame.locator('.explanation').count(), 0, 'panels= left the explanation out');

        // Height: the iframe takes the embed's height (no second scroll bar), and follows it.
        const fits = async () => {
          const want = await ownHeight(frame);
          await page.waitForFunction(
            (h) => document.querySelector('#pool iframe')?.getBoundingClientRect().height === h,
            want,
            { timeout: 10_000 },
          );
          return want;
        };
        // Parts of the embed draw once its engine answers (a prediction's question, say): the
        // iframe follows them, until nothing is left to scroll inside it.
        await frame
          .waitForFunction(() => document.documentElement.scrollHeight <= innerHeight, null, { timeout: 10_000 })
          .catch(() => assert.fail('something to scroll inside the iframe after 10 s'));
        const before = await fits();

        // A short run from the course page's own button: started, then the result, in its table.
        await page.fill('#numbers', '3000000');
        await page.click('#run');
        await page.waitForFunction(() => window.events.some((m) => m.type === 'result'), null, { timeout: 60_000 });
        const result =
          (await page.evaluate(() => window.events.find((m) => m.type === 'result'))) ??
          assert.fail('no result message');
        assert.match(String(result.requestId), /^embed-\d+$/);
        assert.equal(result.status, 'ok');
        assert.equal(result.params.numbers, 3000000);
        assert.ok(result.checks.length > 0 && result.checks.every((c) => c.ok), JSON.stringify(result.checks));
        const started = await page.evaluate(
          (id) => window.events.find((m) => m.type === 'started' && m.requestId === id),
          result.requestId,
        );
        assert.equal(started?.topic, 'cpu-map');
        assert.equal(await page.textContent('#results tbody tr td'), '3000000');
        assert.ok((await fits()) > before, 'the results made the embed taller, and the iframe followed');

        // A long run: progress comes (throttled, with the fraction done), then Stop ends it.
        await page.fill('#numbers', '400000000');
        await page.click('#run');
        await page.waitForFunction(() => window.events.filter((m) => m.type === 'progress').length >= 3, null, {
          timeout: 30_000,
        });
        await page.click('#stop');
        await page.waitForFunction(() => window.events.some((m) => m.type === 'stopped'), null, { timeout: 10_000 });
        await page.waitForTimeout(400); // a progress event after the end would show up now
        const run = await page.evaluate(() => {
          const stopped = /** @type {EmbedMessage} waited for above */ (
            window.events.find((m) => m.type === 'stopped')
          );
          return {
            stopped,
            events: window.events
              .filter((m) => m.requestId === stopped.requestId)
              .map((m) => ({ type: m.type, fraction: m.fraction, elapsedMs: m.elapsedMs })),
          };
        });
        assert.equal(run.stopped.status, 'stopped');
        assert.equal(run.stopped.params.numbers, 400000000);
        assert.deepEqual(
          [...new Set(run.events.map((e) => e.type))],
          ['started', 'progress', 'stopped'],
          'started, progress, then stopped: nothing after',
        );
        const progress = run.events.filter((e) => e.type === 'progress');
        assert.ok(
          progress.every((p) => p.fraction > 0 && p.fraction <= 1),
          JSON.stringify(progress),
        );
        for (let i = 1; i < progress.length; i++)
          assert.ok(progress[i].elapsedMs - progress[i - 1].elapsedMs >= 200, `throttled: ${JSON.stringify(progress)}`);
        assert.equal(await page.textContent('#status'), `Stopped after ${Math.round(run.stopped.wallMs)} ms.`);
        assert.match((await frame.textContent('#results .status')) ?? '', /^Stopped/);
        await fits();
        await shoot(page, 'embed-course-example');
      },
    );
  });
});

describe('predict, then run, on the example course page', () => {
  test('the course page records the xAPI-shaped prediction and outcome statements and scores them', async () => {
    const course = await exampleCourse();
    await onPage(
      () => openPage(env.browser, null, { width: 1100, height: 900 }),
      async ({ page }) => {
        await page.goto(course);
        const race = page.locator('#race iframe');
        await race.scrollIntoViewIfNeeded();
        const frame = (await (await race.elementHandle())?.contentFrame()) ?? assert.fail('no race frame');
        await frame.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
        assert.equal(new URL(frame.url()).searchParams.get('prompt'), 'lost-updates', 'embed.js passes prompt= on');
        await frame.check('#predict-lost-updates-most');
        await frame.click('#run');
        await page.waitForFunction(
          () => window.statements?.some((s) => s.verb.id.endsWith('/passed') || s.verb.id.endsWith('/failed')),
          null,
          { timeout: 90_000 },
        );
        const [prediction, outcome] = await page.evaluate(() => window.statements);
        const base = new URL(frame.url()).origin;

        // The prediction: 'answered', the activity is the topic and prompt with its parameters, no actor.
        assert.equal(prediction.actor, undefined);
        assert.deepEqual(prediction.verb, {
          id: 'http://adlnet.gov/expapi/verbs/answered',
          display: { 'en-US': 'answered' },
        });
        assert.equal(prediction.object.id, `${base}/index.html?topic=race&prompt=lost-updates`);
        assert.equal(prediction.object.definition.interactionType, 'choice');
        assert.deepEqual(
          prediction.object.definition.choices.map((/** @type {{id: string}} */ c) => c.id),
          ['none', 'some', 'most'],
        );
        assert.equal(prediction.object.definition.extensions[`${base}/xapi/parameters`].threads, 10);
        assert.deepEqual(prediction.result, { response: 'most' });
        assert.ok(!Number.isNaN(Date.parse(prediction.timestamp)));

        // The outcome: passed or failed, with the score, the answer and the measurement.
        const success = outcome.verb.id.endsWith('/passed');
        assert.equal(outcome.object.id, prediction.object.id);
        assert.equal(outcome.result.success, success);
        assert.deepEqual(outcome.result.score, { raw: success ? 1 : 0, min: 0, max: 1, scaled: success ? 1 : 0 });
        assert.equal(outcome.result.response, 'most');
        assert.equal(outcome.result.completion, true);
        const measured = outcome.result.extensions[`${base}/xapi/measured`];
        assert.ok(['none', 'some', 'most'].includes(measured), measured);
        assert.equal(success, outcome.result.extensions[`${base}/xapi/accepted`].ids.includes('most'));
        assert.match(outcome.result.extensions[`${base}/xapi/explanation`], /withdrawals vanished/);

        // The score table, built from them.
        const row = await page.$$eval('#scores tbody tr td', (cells) => cells.map((c) => c.textContent));
        assert.deepEqual(row, [
          'race',
          'Without the lock, how many of the withdrawals will be lost?',
          'most',
          outcome.result.extensions[`${base}/xapi/shown`],
          success ? 'right' : 'not this time',
        ]);
        assert.equal(await page.textContent('#score'), `${success ? 1 : 0} of 1 right`);
        await shoot(page, 'predict/course-example');
      },
    );
  });
});

describe('protocol 1, message by message', () => {
  test("setParams, getState, stop, the learner's own runs, and LTI resizing", async () => {
    await onPage(
      () => openEmbedCourse(env.browser, `${env.url}embed.html?topic=gil&limit=2000000`),
      async ({ page }) => {
        const frame = page.frame({ url: /embed\.html/ }) ?? assert.fail('no embed frame');
        const ready =
          (await page.evaluate(() => window.replies.find((m) => m.type === 'ready'))) ??
          assert.fail('no ready message');
        assert.equal(ready.requestId, null);
        assert.equal(ready.capabilities.threads, ready.capabilities.reason === null);

        const state = await ask(page, { type: 'getState', requestId: 'state-1' });
        assert.equal(state.type, 'state');
        assert.equal(state.protocol, 1);
        assert.deepEqual(
          [state.topic.id, state.params.limit, state.running, state.runs, state.last],
          ['gil', 2000000, false, 0, null],
        );

        // setParams fills the form (switching topics if asked) and runs nothing.
        const set = await ask(page, {
          type: 'setParams',
          topic: 'cpu-map',
          params: { tasks: 2, numbers: 1000000 },
          requestId: 7,
        });
        assert.equal(set.type, 'state', JSON.stringify(set));
        assert.equal(set.topic.id, 'cpu-map');
        assert.equal(set.params.tasks, 2);
        assert.equal(await frame.inputValue('#param-numbers'), '1000000');
        assert.equal(set.runs, 0);
        const bad = await ask(page, { type: 'setParams', params: { tasks: 'many' }, requestId: 8 });
        assert.equal(bad.type, 'error');
        assert.equal(bad.errors[0].field, 'tasks');
        assert.equal(
          await frame.inputValue('#param-tasks'),
          'many',
          'the form shows the refused value next to its message',
        );
        const unknown = await ask(page, { type: 'setParams', topic: 'nope', params: {}, requestId: 9 });
        assert.match(unknown.message, /Unknown topic: "nope"/);

        // Stop with nothing running says so; stop during a run ends it, and both are answered.
        const idle = await ask(page, { type: 'stop', requestId: 'idle' });
        assert.deepEqual([idle.type, idle.stopped, idle.running], ['state', false, false]);
        await page.evaluate(() =>
          window.send({ type: 'run', topic: 'cpu-map', params: { tasks: 4, numbers: 400000000 }, requestId: 'long' }),
        );
        await page.waitForFunction(
          () => window.events.some((m) => m.type === 'progress' && m.requestId === 'long'),
          null,
          { timeout: 30_000 },
        );
        const during = await ask(page, { type: 'getState', requestId: 'during' });
        assert.deepEqual([during.running, during.runningBy], [true, 'parent']);
        const stop = await ask(page, { type: 'stop', requestId: 'stop' });
        assert.deepEqual([stop.type, stop.stopped, stop.running], ['state', true, false]);
        const stopped =
          (await page.evaluate(() => window.replies.find((m) => m.requestId === 'long'))) ??
          assert.fail('no stopped message');
        assert.equal(stopped.type, 'stopped');
        assert.equal(stopped.status, 'stopped');
        assert.equal(
          stop.last.requestId,
          undefined,
          'state.last is the ending message, without a requestId of its own',
        );
        assert.equal(stop.last.type, 'stopped');

        // The learner's own run in the embed: the parent hears it too, with no requestId.
        await frame.fill('#param-numbers', '2000000');
        await frame.click('#run');
        await page.waitForFunction(
          () => window.replies.some((m) => m.type === 'result' && m.requestId === null),
          null,
          { timeout: 60_000 },
        );
        const learner = await page.evaluate(() =>
          [...window.events, ...window.replies]
            .filter((m) => m.requestId === null && m.by === 'learner')
            .map((m) => m.type),
        );
        assert.deepEqual([learner[0], learner.at(-1)], ['started', 'result']);

        // Heights for embed.js-style pages and for LMSs, the same numbers; the last one is the
        // embed's height once its layout has settled (the timeline is drawn after the run).
        const heights = () =>
          page.evaluate(() => ({
            ours: window.events.filter((m) => m.type === 'resize').map((m) => m.height),
            lti: window.events.filter((m) => m.subject === 'lti.frameResize').map((m) => m.height),
          }));
        const settled = Date.now() + 10_000;
        while ((await heights()).ours.at(-1) !== (await ownHeight(frame)) && Date.now() < settled)
          await page.waitForTimeout(200);
        const reported = await heights();
        assert.ok(reported.ours.length >= 2, JSON.stringify(reported));
        assert.deepEqual(reported.lti, reported.ours);
        assert.equal(reported.ours.at(-1), await ownHeight(frame));
      },
    );
  });

  test('origin= restricts who may drive the embed: others get an error, and hear nothing', async () => {
    await onPage(
      () =>
        openEmbedCourse(env.browser, `${env.url}embed.html?topic=gil&origin=https://course.example`, {
          waitReady: false,
        }),
      async ({ page }) => {
        const frame = page.frame({ url: /embed\.html/ }) ?? assert.fail('no embed frame');
        await frame.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
        const refused = await ask(page, { type: 'run', topic: 'gil', params: {}, requestId: 'x' });
        assert.equal(refused.type, 'error');
        assert.match(
          refused.message,
          /only from the origins its URL names \(origin=\), and http:\/\/127\.0\.0\.1:\d+ is not one of them/,
        );
        assert.equal(await frame.evaluate(() => Number(document.body.dataset.runs ?? 0)), 0, 'nothing ran');
        const heard = await page.evaluate(() =>
          [...window.replies, ...window.events].filter((m) => m.requestId !== 'x'),
        );
        assert.deepEqual(heard, [], 'no ready, events or heights for a page the embed does not name');
      },
    );
    // A bad origin= fails closed, and says so.
    await onPage(
      () => openPage(env.browser, `${env.url}embed.html?topic=gil&origin=course.example/path`),
      async ({ page }) => {
        assert.match((await page.textContent('.notice')) ?? '', /origin=course\.example\/path is not an origin/);
      },
    );
  });
});

describe('display options', () => {
  test('panels, compact, theme=dark and autorun in the embed URL', async () => {
    await onPage(
      () =>
        openPage(
          env.browser,
          `${env.url}embed.html?topic=gil&limit=2000000&panels=results,python&compact=1&theme=dark&autorun=1`,
          { width: 800, height: 900 },
        ),
      async ({ page }) => {
        // autorun: the run starts on its own.
        await page.waitForFunction(() => Number(document.body.dataset.runs ?? 0) === 1, null, { timeout: 60_000 });
        assert.match((await page.textContent('#results .status')) ?? '', /^Finished/);
        assert.ok((await checks(page)).every((c) => c.ok));
        assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
        assert.equal(
          await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor),
          'rgb(11, 17, 32)',
        );
        assert.equal(await page.evaluate(() => document.documentElement.hasAttribute('data-compact')), true);
        // Only the results (no timeline) and the Python tab; Run stays without the parameters.
        assert.equal(await page.locator('.explanation').count(), 0);
        assert.equal(await page.isVisible('#param-limit'), false);
        assert.equal(await page.isVisible('#run'), true);
        assert.equal(await page.isVisible('.timeline-section'), false);
        assert.equal(await page.isVisible('[data-panel="history"]'), false);
        await page.waitForSelector('#tab-python');
        assert.equal(await page.locator('#tab-rust').count(), 0);
        await shoot(page, 'embed-display-options');
      },
    );
    await onPage(
      () => openPage(env.browser, `${env.url}embed.html?topic=gil&panels=charts&theme=sepia`),
      async ({ page }) => {
        const notices = await page.$$eval('.notice', (n) => n.map((x) => x.textContent).join(' '));
        assert.match(
          notices,
          /Unknown panel charts in panels=: the panels are explanation, params, results, timeline, history, code, python/,
        );
        assert.equal(await page.isVisible('.explanation'), true, 'no panel known: all shown');
        assert.match(notices, /Ignored theme=sepia: use light, dark, auto/);
        assert.equal(await page.inputValue('#param-limit'), '1200000000', 'display keys are not parameters');
        await page.fill('#param-limit', '3000000');
        await page.waitForFunction(() => location.search.includes('limit=3000000'));
        assert.match(
          await page.evaluate(() => location.search),
          /&panels=charts&theme=sepia$/,
          'the form keeps the display keys in the address',
        );
      },
    );
  });

  test('the full page follows prefers-color-scheme, and theme= overrides it', async () => {
    await onPage(
      () => openPage(env.browser, null),
      async ({ page }) => {
        const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
        await page.emulateMedia({ colorScheme: 'dark' });
        await page.goto(`${env.url}?topic=race`);
        await page.waitForSelector('body[data-ready="true"]');
        assert.equal(await background(), 'rgb(11, 17, 32)');
        await page.goto(`${env.url}?topic=race&theme=light`);
        await page.waitForSelector('body[data-ready="true"]');
        assert.equal(await background(), 'rgb(246, 247, 249)');
        await page.emulateMedia({ colorScheme: 'light' });
        await page.goto(`${env.url}?theme=dark`);
        await page.waitForSelector('body[data-ready="true"]');
        assert.equal(await background(), 'rgb(11, 17, 32)');
      },
    );
  });
});
