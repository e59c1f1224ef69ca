// A SCORM 1.2 package (tools/package.mjs, www/js/scorm.js) under a real SCORM runtime playing the
// LMS: scorm-again's Scorm12API on the LMS page (another origin than the playground's), the
// package's launch page in a frame of it, the playground embedded in that. The learner predicts
// and runs; the LMS must have recorded the status and the score the playground graded. The zip
// is unpacked by Python's zipfile, not by our code.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { buildPackage } from '../../tools/package.mjs';
import { onPage, openPage, shoot, startServer, useBrowser } from './harness.mjs';

const env = useBrowser();
/** @type {{close: () => Promise<unknown>}[]} */
const servers = [];
after(() => Promise.all(servers.map((s) => s.close())));

/**
 * An LMS on its own origin: scorm-again's API on the page, `args`'s package unpacked in pkg/ and
 * launched in a frame. `window.lmsCalls` lists the API calls and values the package made.
 * @param {string[]} args for tools/package.mjs
 */
async function lms(args) {
  const dir = mkdtempSync(join(tmpdir(), 'lms-'));
  const { file, bytes } = buildPackage([...args, '--playground', env.url]);
  writeFileSync(join(dir, file), bytes);
  mkdirSync(join(dir, 'pkg'));
  execFileSync('python3', ['-m', 'zipfile', '-e', join(dir, file), join(dir, 'pkg')]);
  copyFileSync('node_modules/scorm-again/dist/scorm12.min.js', join(dir, 'scorm12.min.js'));
  writeFileSync(
    join(dir, 'lms.js'),
    `window.lmsCalls = [];
window.API = new Scorm12API({ logLevel: 5 });
for (const call of ['LMSInitialize', 'LMSCommit', 'LMSFinish']) window.API.on(call, () => window.lmsCalls.push([call]));
window.API.on('LMSSetValue.cmi.*', (element, value) => window.lmsCalls.push(['LMSSetValue', element, value]));
document.getElementById('sco').src = 'pkg/index.html';
`,
  );
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><meta charset="utf-8"><title>An LMS</title><link rel="icon" href="data:,">
<iframe id="sco" width="1100" height="1000" allow="cross-origin-isolated"></iframe>
<script src="scorm12.min.js"></script><script src="lms.js"></script>`,
  );
  const server = await startServer({ root: dir, isolation: false });
  servers.push(server);
  return { url: server.url, file };
}

describe('a SCORM 1.2 package under scorm-again', () => {
  test('launch, predict, run: the LMS stores completion and the score', async () => {
    const { url, file } = await lms([
      'race',
      'threads=2',
      'withdrawals=3',
      'pause_ms=0',
      '--prompt',
      'lost-updates',
      '--panels',
      'params,results',
    ]);
    assert.equal(file, 'race-lost-updates-scorm12.zip');
    await onPage(
      () => openPage(env.browser, null, { width: 1200, height: 1100 }),
      async ({ page }) => {
        await page.goto(url);
        const launch = page.frameLocator('#sco');
        await launch.locator('#status').filter({ hasText: 'Ready' }).waitFor({ timeout: 30_000 });
        const embed = launch.frameLocator('iframe');
        // prompt= asks only the package's question.
        assert.equal(await embed.locator('#predict .predict-prompt').count(), 1);
        const before = await page.evaluate(() => ({
          status: window.API.cmi.core.lesson_status,
          calls: window.lmsCalls.map((c) => c[0]),
        }));
        assert.deepEqual(before, { status: 'incomplete', calls: ['LMSInitialize', 'LMSSetValue', 'LMSCommit'] });

        await embed.locator('#predict-lost-updates-none').check();
        await embed.locator('#run').click();
        await page.waitForFunction(() => ['passed', 'failed'].includes(window.API.cmi.core.lesson_status), null, {
          timeout: 90_000,
        });
        const verdict = await embed.locator('#prediction-outcome .prediction').getAttribute('data-verdict');
        const recorded = await page.evaluate(() => ({
          status: window.API.cmi.core.lesson_status,
          raw: window.API.cmi.core.score.raw,
          min: window.API.cmi.core.score.min,
          max: window.API.cmi.core.score.max,
        }));
        assert.deepEqual(
          recorded,
          verdict === 'right'
            ? { status: 'passed', raw: '100', min: '0', max: '100' }
            : { status: 'failed', raw: '0', min: '0', max: '100' },
        );
        assert.match(
          (await launch.locator('#status').textContent()) ?? '',
          verdict === 'right' ? /^Passed: score 100 of 100/ : /^Not this time: score 0 of 100/,
        );
        await shoot(page, 'predict/scorm-lms');

        // A second run does not change the grade; leaving the page finishes the session.
        await embed.locator('#predict-lost-updates-most').check();
        await embed.locator('#run').click();
        await embed.locator('body[data-runs="2"]').waitFor({ timeout: 90_000 });
        assert.equal(await page.evaluate(() => window.API.cmi.core.lesson_status), recorded.status);
        await page.evaluate(() => {
          /** @type {HTMLIFrameElement} */ (document.getElementById('sco')).src = 'about:blank';
        });
        await page.waitForFunction(() => window.lmsCalls.some((c) => c[0] === 'LMSFinish'), null, { timeout: 10_000 });
        const calls = await page.evaluate(() => window.lmsCalls);
        assert.ok(
          calls.some((c) => c[1] === 'cmi.core.session_time' && /^\d{4}:\d\d:\d\d\.\d\d$/.test(c[2] ?? '')),
          JSON.stringify(calls),
        );
      },
    );
  });

  test('the tool refuses what the topic does not have', () => {
    assert.throws(() => buildPackage(['race', '--prompt', 'nope']), /race has no prompt "nope": it has lost-updates/);
    assert.throws(() => buildPackage(['race', 'colour=red']), /race has no parameter "colour"/);
    assert.throws(() => buildPackage(['no-such-topic']), /There is no topic "no-such-topic"/);
    assert.throws(() => buildPackage(['race', '--panels', 'results,nope']), /Unknown panels nope/);
  });
});
