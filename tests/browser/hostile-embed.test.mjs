// What an embed lets a page read (issue 24): a page on another origin frames the embed with
// autorun, no origin= (so the embed reports to it), and the scraper pointed at pages of the
// playground's own origin. The simulated site is read (so the scraper did run here), and nothing
// of the origin's own pages reaches the framing page: no title, no link, no size, no status.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { onPage, openEmbedCourse, useBrowser } from './harness.mjs';

const env = useBrowser();
// A page of the playground's origin that only this test knows: a real site would have its
// logged-in pages there.
const marker = randomBytes(6).toString('hex');
const secretFile = `www/pkg/secret-${marker}.html`;
before(() =>
  writeFileSync(secretFile, `<!doctype html><title>secret ${marker}</title><a href="private-${marker}">mine</a>`),
);
after(() => rmSync(secretFile, { force: true }));

describe('a hostile page framing the embed', () => {
  test("reads the simulated site, and nothing of the playground origin's own pages", async () => {
    const secret = `${env.url}pkg/secret-${marker}.html`;
    const urls = [
      'sim/site/index',
      secret,
      `${env.url}`,
      `pkg/secret-${marker}.html`,
      `sim/../pkg/secret-${marker}.html`,
    ].join(',');
    const src = `${env.url}embed.html?topic=scraper&urls=${encodeURIComponent(urls)}&autorun=1`;
    await onPage(
      () => openEmbedCourse(env.browser, src),
      async ({ page }) => {
        await page.waitForFunction(() => window.replies.some((m) => m.type === 'result'), null, { timeout: 90_000 });
        const heard = await page.evaluate(() => JSON.stringify([...window.replies, ...window.events]));
        const result = await page.evaluate(() => window.replies.find((m) => m.type === 'result'));
        /** @type {{url: string, status: number | null, error: string | null, size: number, title: string | null, links: string[]}[]} */
        const pages =
          result?.values?.pages ?? assert.fail(`no pages in the result: ${JSON.stringify(result).slice(0, 400)}`);
        // The control: the simulated site was fetched and parsed, and its title reached the page.
        const site = pages.find((p) => p.url === 'sim/site/index') ?? assert.fail('no sim/site/index');
        assert.equal(site.status, 200);
        assert.match(site.title ?? '', /Sim Shop/);
        // The origin's own pages: refused before any request, so nothing of them is known.
        for (const own of pages.filter((p) => p.url !== 'sim/site/index')) {
          assert.equal(own.status, null, own.url);
          assert.equal(own.size, 0, own.url);
          assert.equal(own.title, null, own.url);
          assert.deepEqual(own.links, [], own.url);
          assert.match(own.error ?? '', /refused|not part of the simulated service|404/, own.url);
        }
        assert.ok(
          !heard.includes(`secret ${marker}`) && !heard.includes(`private-${marker}`),
          'the secret page leaked to the framing page',
        );
        assert.ok(!heard.includes('Concurrency Playground</title>'), "the playground's own page leaked");
      },
    );
  });
});
