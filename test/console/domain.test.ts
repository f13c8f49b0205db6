/**
 * The "DKIM & domain" screen through the real API and a real DNS server on loopback
 * (DNS_RESOLVER): create a DKIM key and read its TXT record, see the readiness report fail
 * DKIM until that record is published and pass once it is, rotate to an Ed25519 key under
 * the next selector, and remove the key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startDnsServer, type DnsServer, type DnsZone } from '../helpers/dns-server';
import { eventually, op } from '../support/relay';
import { screenshot } from './browser';
import { consoleFixture, openConsole, type Lang, type PageGlobals } from './console-fixture';

const WORDS = {
  en: { none: 'No DKIM key yet', pass: 'Pass', fail: 'Fail', rotate: 'Replace the key (rotate)' },
  ja: {
    none: 'DKIM 鍵はまだありません',
    pass: '合格',
    fail: '要対応',
    rotate: '鍵を入れ替える（ローテーション）',
  },
};

/** The status word of the readiness row whose first cell is `check`. */
async function statusOf(page: Page, check: string): Promise<string> {
  const row = page.locator('#readiness-report tr', {
    has: page.locator(`td:first-child:text-is("${check}")`),
  });
  return ((await row.locator('.badge').textContent()) ?? '').trim();
}

async function runReadiness(page: Page): Promise<void> {
  // The previous report goes first, so the one waited for is the new one.
  await page.evaluate("document.getElementById('readiness-report')?.remove()");
  const box = page.locator('section', { has: page.locator('#readiness-result') });
  await box.locator('button[type=submit]').click();
  await page.locator('#readiness-report').waitFor();
}

describe('console: DKIM key and domain readiness', { timeout: 240_000 }, () => {
  const zone: DnsZone = { txt: { '_dmarc.example.com': ['v=DMARC1; p=none'] } };
  const env: Record<string, string> = {};
  let dns: DnsServer;
  // Before the fixture's hook, so that the relay starts with DNS_RESOLVER set.
  before(async () => {
    dns = await startDnsServer(zone);
    env.DNS_RESOLVER = dns.address;
  });
  const f = consoleFixture(env);
  after(async () => {
    await dns?.close();
  });

  for (const [lang, width] of [
    ['en', 1280],
    ['ja', 390],
  ] as [Lang, number][]) {
    test(`create a DKIM key, publish its record, check the domain, rotate, remove: ${lang}, ${width} px`, async () => {
      const w = WORDS[lang];
      const path = `/v1/tenants/${f.tenant.id}/dkim`;
      await f.app.request('DELETE', path, op);
      const { context, page, problems } = await openConsole(f, {
        lang,
        width,
        hash: `#/t/${f.tenant.id}/domain`,
      });
      page.on('dialog', (d) => void d.accept());
      try {
        await page.locator('#dkim-key p', { hasText: w.none }).waitFor();
        // The domain comes from the tenant's certificate (news@example.com).
        const dkimForm = page.locator('form', { has: page.locator('#dkim-result') });
        const fields = dkimForm.locator('input[type=text]');
        assert.equal(await fields.nth(0).inputValue(), 'example.com');
        await fields.nth(1).fill(`${lang}1`);
        await dkimForm.locator('button[type=submit]').click();
        const record = page.locator('#dkim-record');
        await record.waitFor();
        const name = await record.locator('input').inputValue();
        const value = await record.locator('textarea').inputValue();
        const stored = await f.app.request('GET', path, op);
        assert.equal(stored.status, 200, stored.text);
        assert.equal(name, `${lang}1._domainkey.example.com`);
        assert.equal(name, stored.json.dnsRecord.name);
        assert.equal(value, stored.json.dnsRecord.value);
        assert.match(value, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
        await screenshot(page, `dkim-record-${lang}-${width}`);

        // Not published yet: the DKIM check does not pass, and SPF (none in the zone) fails.
        await runReadiness(page);
        assert.notEqual(await statusOf(page, 'DKIM'), w.pass);
        assert.equal(await statusOf(page, 'SPF'), w.fail);
        const spfFix = page.locator('#readiness-report tr', {
          has: page.locator('td:first-child:text-is("SPF")'),
        });
        assert.match((await spfFix.textContent()) ?? '', /v=spf1/);
        // Published as the screen shows it: now DKIM passes.
        zone.txt![name] = [value];
        await runReadiness(page);
        assert.equal(await statusOf(page, 'DKIM'), w.pass);
        await screenshot(page, `readiness-${lang}-${width}`);

        // Rotation: the next selector is suggested; an Ed25519 key replaces the RSA one.
        assert.equal(await fields.nth(1).inputValue(), `${lang}2`);
        await dkimForm.locator('select').selectOption('ed25519');
        await dkimForm.getByRole('button', { name: w.rotate }).click();
        const recordName = page.locator('#dkim-record input').first();
        // The console's CSP (script-src 'self') refuses waitForFunction's string predicates.
        await eventually(
          async () =>
            (await recordName.inputValue()) === `${lang}2._domainkey.example.com` || undefined,
          30_000,
          'the rotated record',
        );
        const rotated = await f.app.request('GET', path, op);
        assert.equal(rotated.json.selector, `${lang}2`);
        assert.equal(await record.locator('textarea').inputValue(), rotated.json.dnsRecord.value);
        assert.match(rotated.json.dnsRecord.value, /^v=DKIM1; k=ed25519; p=/);

        // Remove: the key goes, and the result is announced where the focus is.
        await page.locator('#dkim-key button.danger').click();
        await page.locator('#dkim-key p', { hasText: w.none }).waitFor();
        assert.equal((await f.app.request('GET', path, op)).status, 404);
        const focused = await page.evaluate(
          () => (globalThis as unknown as PageGlobals).document.activeElement?.textContent ?? '',
        );
        assert.match(focused, /example\.com/);
        if (width === 390) {
          const scroll = await page.evaluate(
            () => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth,
          );
          assert.ok(scroll <= width, `the page is ${scroll}px wide`);
        }
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }
});
