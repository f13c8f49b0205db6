/**
 * Keys made in the relay, from the console in Chromium (English at 1280 px, Japanese at
 * 390 px): make a key, read and download its CSR, have the test CA issue the certificate,
 * paste it to attach it, see the certificate in the list, and make a renewal request for
 * the same key. axe-core finds no serious or critical violation.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { op } from '../support/relay';
import { createTestPki, type TestPki } from '../helpers/pki';
import { issueFromCsr } from '../helpers/issue-csr';
import { seriousViolations } from './axe';
import { screenshot } from './browser';
import { consoleFixture, openConsole, type Lang } from './console-fixture';

describe('console: keys made in the relay and their certificates', { timeout: 240_000 }, () => {
  const f = consoleFixture();
  let pki: TestPki;

  before(async () => {
    pki = await createTestPki();
  });

  for (const [lang, width] of [
    ['en', 1280],
    ['ja', 390],
  ] as [Lang, number][]) {
    test(`make a key, attach its certificate, renew (${lang}, ${width} px)`, async () => {
      const address = `keys-${lang}@example.com`;
      const { context, page, problems } = await openConsole(f, {
        lang,
        width,
        hash: `#/t/${f.tenant.id}/certificates`,
        bypassCSP: true,
      });
      try {
        const form = page.locator('form', { has: page.locator('[name=key-spec]') });
        await form.waitFor();
        await form.locator('[name=key-spec]').selectOption('P-256');
        await form.locator('[name=key-addresses]').fill(address);
        await form.locator('[name=key-cn]').fill(address);
        await form.locator('[name=key-country]').fill('jp');
        await form.locator('button[type=submit]').click();
        const csr = (await page.locator('#new-key pre').textContent()) ?? '';
        assert.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----/);
        const download = page.locator('#new-key a[download]');
        assert.equal(await download.getAttribute('download'), `${address}.csr`);

        // The CA issues it; the certificate is pasted into the key's form.
        const certificate = await issueFromCsr(pki, csr);
        const key = page.locator('#key-list details.key', { hasText: address });
        await key.locator('summary').click();
        await key.locator('[name=attach-certificate]').fill(certificate);
        await key.locator('[name=attach-chain]').fill(pki.intermediatePem);
        await key.locator('form button[type=submit]').click();
        await page.locator('#key-status .success').waitFor();
        await page.locator('#certificate-list td', { hasText: address }).first().waitFor();

        const keys = await f.app.request('GET', `/v1/tenants/${f.tenant.id}/keys`, op);
        const made = keys.json.find((k: { emailAddresses: string[] }) =>
          k.emailAddresses.includes(address),
        );
        assert.equal(made.custody, 'sealed');
        assert.equal(made.certificateIds.length, 1);

        // A renewal request for the same key (the list was drawn again: open it again).
        await key.locator('summary').click();
        await key
          .locator('button.secondary', { hasText: lang === 'ja' ? '更新' : 'renewal' })
          .click();
        await key.locator('.success').waitFor();
        const renewed = await key.locator('pre').last().textContent();
        assert.match(renewed ?? '', /BEGIN CERTIFICATE REQUEST/);
        assert.notEqual(renewed, csr);

        assert.deepEqual(await seriousViolations(page, `keys ${lang}`), []);
        await screenshot(page, `keys-${lang}-${width}`);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }
});
