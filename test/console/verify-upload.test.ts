/**
 * "Verify a message": a received .eml goes to POST /v1/verify as its bytes, and the verdict is
 * explained in plain words with its code. The valid message is 8-bit Shift_JIS signed by
 * OpenSSL with the test PKI's certificate, so it verifies only if the screen sends the file's
 * bytes, not text.
 * A tampered copy is "signature broken", a plain message "not signed", and a copy with
 * another From: names both addresses.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { createTestPki } from '../helpers/pki';
import { signWithOpenssl } from '../helpers/openssl';
import { screenshot } from './browser';
import { consoleFixture, openConsole, type Lang } from './console-fixture';

// "日本語のお知らせ" in Shift_JIS: not UTF-8, so a text round trip would change the bytes.
const NEWS_SJIS = Buffer.from('k/qWe4zqgsyCqJJtgueCuQ==', 'base64');
const message = (from: string, body: Buffer) =>
  Buffer.concat([
    Buffer.from(
      [
        `From: News <${from}>`,
        'To: reader@example.net',
        'Subject: Verify me',
        `Date: ${new Date().toUTCString()}`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=Shift_JIS',
        'Content-Transfer-Encoding: 8bit',
        '',
        '',
      ].join('\r\n'),
    ),
    body,
  ]);
const BODY = Buffer.concat([NEWS_SJIS, Buffer.from('\r\nBODY-TOKEN-1234\r\n')]);

const WORDS = {
  en: {
    valid: 'Valid:',
    broken: 'Signature broken',
    unsigned: 'Not signed',
    other: 'The signer is not the sender',
  },
  ja: {
    valid: '有効:',
    broken: '署名が壊れています',
    unsigned: '署名なし',
    other: '署名者と送信者が違います',
  },
};

async function verifyFile(page: Page, name: string, bytes: Buffer): Promise<string> {
  await page.evaluate("document.getElementById('verdict')?.remove()");
  await page
    .locator('#verify-file')
    .setInputFiles({ name, mimeType: 'message/rfc822', buffer: bytes });
  await page.locator('#main form button[type=submit]').click();
  const verdict = page.locator('#verdict');
  await verdict.waitFor();
  return (await verdict.textContent()) ?? '';
}

describe('console: verify an uploaded .eml', { timeout: 180_000 }, () => {
  const f = consoleFixture();
  let signed: Buffer;

  before(async () => {
    // Signed the way another mail program signs: OpenSSL over the 8-bit entity as it is
    // (the relay itself would re-encode it to 7 bit), with the test PKI's certificate.
    const pki = await createTestPki();
    const entity = Buffer.concat([
      Buffer.from(
        'Content-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n',
      ),
      BODY,
    ]);
    const smime = await signWithOpenssl(entity, pki.identities.rsa2048);
    const outer = [
      'From: News <news@example.com>',
      'To: reader@example.net',
      'Subject: Verify me',
      `Date: ${new Date().toUTCString()}`,
      '',
    ].join('\r\n');
    signed = Buffer.concat([Buffer.from(outer), smime]);
    // The signed file holds the 8-bit Shift_JIS octets: it is not UTF-8.
    assert.ok(signed.includes(NEWS_SJIS), 'the signed body kept its 8-bit octets');
    assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(signed));
  });

  for (const [lang, width] of [
    ['en', 1280],
    ['ja', 390],
  ] as [Lang, number][]) {
    test(`valid, broken, not signed, another From: ${lang}, ${width} px`, async () => {
      const w = WORDS[lang];
      const { context, page, problems } = await openConsole(f, {
        lang,
        width,
        hash: `#/t/${f.tenant.id}/verify`,
      });
      try {
        await page.locator('#verify-file').waitFor();

        const valid = await verifyFile(page, 'signed.eml', signed);
        assert.ok(valid.includes(w.valid), valid);
        assert.equal(await page.locator('#verdict.verdict-valid').count(), 1);
        await screenshot(page, `verify-valid-${lang}-${width}`);

        const tampered = Buffer.from(
          signed.toString('latin1').replace('BODY-TOKEN-1234', 'BODY-TOKEN-9999'),
          'latin1',
        );
        assert.ok(!tampered.equals(signed));
        const broken = await verifyFile(page, 'tampered.eml', tampered);
        assert.ok(broken.includes(w.broken), broken);
        assert.ok(broken.includes('(digest_mismatch)'), broken);
        assert.ok(!broken.includes(w.valid), broken);
        await screenshot(page, `verify-broken-${lang}-${width}`);

        const unsigned = await verifyFile(page, 'plain.eml', message('news@example.com', BODY));
        assert.ok(unsigned.includes(w.unsigned), unsigned);
        assert.ok(unsigned.includes('(not_signed)'), unsigned);

        // The outer From: is outside the signature: the signature holds, the sender does not.
        const otherFrom = Buffer.from(
          signed
            .toString('latin1')
            .replace('From: News <news@example.com>', 'From: News <ceo@example.com>'),
          'latin1',
        );
        const other = await verifyFile(page, 'other-from.eml', otherFrom);
        assert.ok(other.includes(w.other), other);
        assert.ok(other.includes('(from_mismatch)'), other);
        assert.match(other, /ceo@example\.com.*news@example\.com/s);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }
});
