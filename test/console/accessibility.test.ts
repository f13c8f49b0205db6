/**
 * axe-core on every console screen, in English and Japanese, at 1280 and 390 px: no serious
 * or critical violation. Also the keyboard and focus behaviour axe cannot see: a table that
 * scrolls sideways can be reached by keyboard, focus lands on the announced result after
 * Retry and Revoke, and the certificates table keeps its key columns on a phone's screen.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { op } from '../support/relay';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { DnsLookupHolder } from '../../src/common/dns-lookup';
import { stubDns } from '../domains/stub-dns';
import { seriousViolations } from './axe';
import { screenshot } from './browser';
import {
  consoleFixture,
  goTo,
  LANGS,
  newsletterWithSubject,
  openConsole,
  sendAll,
  WIDTHS,
  type ConsoleFixture,
  type PageGlobals,
} from './console-fixture';

/** The console's screens, each with what shows that it has finished rendering. */
function screens(f: ConsoleFixture, messageId: string): [string, string, string][] {
  const t = `#/t/${f.tenant.id}`;
  return [
    ['tenants', '#/tenants', '#overall-chart figure'],
    ['certificates', `${t}/certificates`, '#certificate-timeline svg'],
    ['sending', `${t}/sending`, '#credential-list table'],
    ['messages', `${t}/messages`, '#activity-chart figure'],
    ['message', `${t}/messages/${messageId}`, '#message-state'],
    ['webhooks', `${t}/webhooks`, '#webhook-list li'],
    ['try', `${t}/try`, '#eml'],
    ['keys', `${t}/keys`, '#key-list table'],
    ['domain', `${t}/domain`, '#dkim-record'],
    ['mautic', `${t}/mautic`, '#mautic-list li'],
    ['verify', `${t}/verify`, '#verify-file'],
    ['tenant', `${t}/tenant`, '#delete-name'],
  ];
}

/** Headings that skip a level (an h2 followed by an h4), as "h2 → h4 (text)". */
function headingJumps(page: Page): Promise<string[]> {
  return page.locator('h1, h2, h3, h4, h5, h6').evaluateAll((els) => {
    const jumps: string[] = [];
    let last = 0;
    for (const el of els) {
      const level = Number(el.tagName[1]);
      if (last && level > last + 1) jumps.push(`h${last} → h${level} (${el.textContent})`);
      last = level;
    }
    return jumps;
  });
}

/** Whether the element's box lies inside the viewport's width (no sideways scrolling needed). */
async function onScreen(page: Page, selector: string): Promise<boolean> {
  const box = await page.locator(selector).first().boundingBox();
  const width = page.viewportSize()?.width ?? 0;
  return Boolean(box && box.x >= 0 && box.x + box.width <= width);
}

describe('console accessibility (axe-core, keyboard, focus)', { timeout: 300_000 }, () => {
  const f = consoleFixture({ WEBHOOK_ALLOW_PRIVATE: 'true', PLATFORM_ALLOW_PRIVATE: 'true' });
  let receiver: WebhookReceiver;
  let messageId = '';

  before(async () => {
    receiver = await startReceiver();
    const path = `/v1/tenants/${f.tenant.id}`;
    const hook = await f.app.request('POST', `${path}/webhooks`, {
      ...op,
      body: { url: receiver.url, events: ['message.delivery_failed'] },
    });
    assert.equal(hook.status, 201, hook.text);
    // Disabled, so that its row shows "Enable again".
    const off = await f.app.request('PATCH', `${path}/webhooks/${hook.json.id}`, {
      ...op,
      body: { enabled: false },
    });
    assert.equal(off.status, 200, off.text);
    const dkim = await f.app.request('PUT', `${path}/dkim`, {
      ...op,
      body: { domain: 'example.com', selector: 's1' },
    });
    assert.equal(dkim.status, 200, dkim.text);
    const mautic = await f.app.request('POST', `${path}/integrations/mautic`, {
      ...op,
      body: {
        baseUrl: 'http://127.0.0.1:9',
        credentials: { type: 'basic', username: 'relay', password: 'secret' },
      },
    });
    assert.equal(mautic.status, 201, mautic.text);
    f.app.nest.get(DnsLookupHolder).lookup = stubDns({
      txt: { 'example.com': ['v=spf1 ip4:127.0.0.1 -all'] },
    });
    const key = await f.app.request('POST', `${path}/api-keys`, { ...op, body: { label: 'a11y' } });
    assert.equal(key.status, 201, key.text);
    [messageId] = await sendAll(f, [newsletterWithSubject('Accessibility check')]);
  });
  after(async () => {
    await receiver?.close();
  });

  for (const lang of LANGS) {
    for (const width of WIDTHS) {
      test(`no serious or critical axe violation: ${lang}, ${width} px`, async () => {
        const { context, page, problems } = await openConsole(f, {
          lang,
          width,
          hash: '#/tenants',
          bypassCSP: true,
        });
        const found: string[] = [];
        try {
          for (const [name, hash, ready] of screens(f, messageId)) {
            await goTo(page, hash);
            await page.locator(ready).first().waitFor();
            found.push(...(await seriousViolations(page, `${name} ${lang} ${width}px`)));
            const wide = await page.evaluate(
              () => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth,
            );
            if (wide > width) found.push(`${name} ${lang}: the page is ${wide}px wide`);
            for (const j of await headingJumps(page))
              found.push(`${name}: heading levels jump: ${j}`);
          }
          // The states that appear after an action: a verification report, a secret shown once.
          await goTo(page, `#/t/${f.tenant.id}/try`);
          await page.locator('#eml').waitFor();
          await page.locator('form button[type=submit]').click();
          await page.locator('#verify-report').waitFor();
          found.push(...(await seriousViolations(page, `try-report ${lang} ${width}px`)));
          await goTo(page, `#/t/${f.tenant.id}/sending`);
          await page.locator('#credential-list table').waitFor();
          await page.locator('#new-credential').locator('..').locator('form button').click();
          await page.locator('#new-credential .once').waitFor();
          found.push(...(await seriousViolations(page, `credential-shown ${lang} ${width}px`)));
          // A readiness report, a verdict on an unsigned message, a rotated webhook secret.
          await goTo(page, `#/t/${f.tenant.id}/domain`);
          await page.locator('#dkim-record').waitFor();
          await page
            .locator('section', { has: page.locator('#readiness-result') })
            .locator('button[type=submit]')
            .click();
          await page.locator('#readiness-report').waitFor();
          found.push(...(await seriousViolations(page, `readiness ${lang} ${width}px`)));
          await goTo(page, `#/t/${f.tenant.id}/verify`);
          await page.locator('#verify-file').setInputFiles({
            name: 'plain.eml',
            mimeType: 'message/rfc822',
            buffer: newsletterWithSubject('Not signed'),
          });
          await page.locator('#main form button[type=submit]').click();
          await page.locator('#verdict').waitFor();
          found.push(...(await seriousViolations(page, `verdict ${lang} ${width}px`)));
          await goTo(page, `#/t/${f.tenant.id}/webhooks`);
          page.once('dialog', (d) => void d.accept());
          await page
            .locator('#webhook-list li')
            .first()
            .getByRole('button', { name: /^(Rotate the secret|シークレットを再発行)$/ })
            .click();
          await page.locator('#webhook-list .once').waitFor();
          found.push(...(await seriousViolations(page, `webhook-rotated ${lang} ${width}px`)));
          // Signed out, with an error.
          await page.locator('header button').click();
          await page.locator('#main input[type=password]').fill('srk_not-a-key');
          await page.locator('#main input[type=password]').press('Enter');
          await page.locator('.error').waitFor();
          found.push(...(await seriousViolations(page, `sign-in ${lang} ${width}px`)));
          assert.deepEqual(found, []);
          assert.deepEqual(problems, []);
        } finally {
          await context.close();
        }
      });
    }
  }

  for (const [lang, width] of [
    ['en', 1280],
    ['ja', 390],
  ] as const) {
    test(`focus goes to the announced result after Retry and Revoke: ${lang}, ${width} px`, async () => {
      f.sink.reply = () => ({ code: 550, text: '5.1.1 no such mailbox' });
      let failedId: string;
      try {
        [failedId] = await sendAll(f, [newsletterWithSubject(`Refused ${lang}`)], 'failed');
      } finally {
        f.sink.reply = () => undefined;
      }
      const cred = await f.app.request('POST', `/v1/tenants/${f.tenant.id}/smtp-credentials`, {
        ...op,
        body: { label: `revoke-${lang}` },
      });
      assert.equal(cred.status, 201, cred.text);
      const { context, page, problems } = await openConsole(f, {
        lang,
        width,
        hash: `#/t/${f.tenant.id}/messages/${failedId}`,
      });
      page.on('dialog', (d) => void d.accept());
      try {
        const focused = () =>
          page.evaluate(() => {
            const el = (globalThis as unknown as PageGlobals).document.activeElement;
            return {
              text: el?.textContent ?? '',
              tag: el?.tagName ?? '',
              announced: Boolean(el?.closest('[role=status], [role=alert], [aria-live]')),
            };
          });
        await page.locator('#retry').click();
        await page.locator('#message-state .state-queued').waitFor();
        const afterRetry = await focused();
        assert.notEqual(afterRetry.tag, 'BODY', 'focus was lost after Retry');
        assert.match(afterRetry.text, lang === 'ja' ? /再び送信待ち/ : /Queued again/);
        assert.ok(afterRetry.announced, 'the result of Retry is announced');

        await goTo(page, `#/t/${f.tenant.id}/sending`);
        const row = page.locator('#credential-list tr', { hasText: cred.json.username });
        await row.getByRole('button').click();
        await row.waitFor({ state: 'detached' });
        const afterRevoke = await focused();
        assert.notEqual(afterRevoke.tag, 'BODY', 'focus was lost after Revoke');
        assert.ok(afterRevoke.text.includes(cred.json.username), afterRevoke.text);
        assert.ok(afterRevoke.announced, 'the result of Revoke is announced');
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }

  for (const lang of LANGS) {
    test(`the certificates table keeps State, Days left and Remove on a 390 px screen: ${lang}`, async () => {
      const { context, page } = await openConsole(f, { lang, width: 390 });
      try {
        await page.locator('#certificate-list table').waitFor();
        const status = lang === 'ja' ? '有効' : 'Active';
        const cells = {
          'days left': '#certificate-list td .badge',
          state: `#certificate-list td:text-is("${status}")`,
          remove: '#certificate-list td button',
        };
        for (const [what, selector] of Object.entries(cells)) {
          assert.ok(await onScreen(page, selector), `${what} is off-screen at 390 px`);
        }
        await screenshot(page, `certificates-390-${lang}`);
        const width = await page.evaluate(
          () => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth,
        );
        assert.ok(width <= 390, `the page is ${width}px wide`);
      } finally {
        await context.close();
      }
    });
  }
});
