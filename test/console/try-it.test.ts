/**
 * "Try it" with a file that is not UTF-8: an 8-bit Shift_JIS newsletter is uploaded as its
 * bytes, so the signed result carries exactly the body that went in, and the report is the
 * report of that message (not of a copy turned into U+FFFD characters).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { screenshot } from './browser';
import { consoleFixture, openConsole, type Lang } from './console-fixture';
import { eventually } from '../support/relay';

// "日本語のお知らせ" in Shift_JIS, then half-width katakana "ｶﾅ" (single octets 0xB6 0xC5).
const NEWS_SJIS = Buffer.from('k/qWe4zqgsyCqJJtgueCuQ==', 'base64');
const KANA_SJIS = Buffer.from([0xb6, 0xc5]);
const BODY = Buffer.concat([NEWS_SJIS, Buffer.from('\r\n'), KANA_SJIS, Buffer.from('\r\n')]);
const EML = Buffer.concat([
  Buffer.from(
    [
      'From: News <news@example.com>',
      'To: reader@example.net',
      'Subject: =?Shift_JIS?B?k/qWe4zqgsyCqJJtgueCuQ==?=',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=Shift_JIS',
      'Content-Transfer-Encoding: 8bit',
      '',
      '',
    ].join('\r\n'),
  ),
  BODY,
]);

/** The first part of a multipart/signed message: its header and its body, decoded. */
function signedPart(signed: Buffer): { header: string; body: Buffer } {
  const text = signed.toString('latin1');
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(text)?.[1];
  assert.ok(boundary, 'the result is not multipart/signed');
  const start = text.indexOf(`--${boundary}\r\n`) + boundary.length + 4;
  const end = text.indexOf(`\r\n--${boundary}`, start);
  const part = text.slice(start, end);
  const split = part.indexOf('\r\n\r\n');
  const header = part.slice(0, split);
  const raw = part.slice(split + 4);
  const cte = /^content-transfer-encoding:\s*(\S+)/im.exec(header)?.[1]?.toLowerCase() ?? '7bit';
  assert.ok(['base64', '8bit', '7bit', 'binary'].includes(cte), `unexpected encoding ${cte}`);
  const body = cte === 'base64' ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'latin1');
  return { header, body };
}

describe('console "Try it" with an 8-bit Shift_JIS .eml', { timeout: 120_000 }, () => {
  const f = consoleFixture();

  test('the fixture is Shift_JIS and not UTF-8', () => {
    assert.equal(new TextDecoder('shift_jis').decode(BODY), '日本語のお知らせ\r\nｶﾅ\r\n');
    assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(BODY));
  });

  for (const [lang, width] of [
    ['en', 1280],
    ['ja', 390],
  ] as [Lang, number][]) {
    test(`the signed body is byte for byte the uploaded one: ${lang}, ${width} px`, async () => {
      const { context, page, problems } = await openConsole(f, {
        lang,
        width,
        hash: `#/t/${f.tenant.id}/try`,
      });
      try {
        await page.locator('#eml').waitFor();
        await page
          .locator('input[type=file]')
          .setInputFiles({ name: 'sjis.eml', mimeType: 'message/rfc822', buffer: EML });
        await eventually(
          async () =>
            (await page.locator('#eml').inputValue()).includes('charset=Shift_JIS') || undefined,
          30_000,
          'the Shift_JIS preview',
        );
        const preview = await page.locator('#eml').inputValue();
        await page.locator('form button[type=submit]').click();
        await page.locator('#verify-report').waitFor();
        assert.equal(await page.locator('#verify-report .success').count(), 1, 'report: valid');
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.locator('#download').click(),
        ]);
        const signed = readFileSync(await download.path());
        const { header, body } = signedPart(signed);
        assert.match(header, /charset=Shift_JIS/i);
        assert.ok(body.equals(BODY), `the signed body differs: ${body.toString('hex')}`);
        // The box showed the file's text in its own charset, and said the file goes as it is.
        assert.match(preview, /日本語のお知らせ\r?\nｶﾅ/);
        await page.locator('#eml-file-note').getByText('sjis.eml').waitFor();
        await screenshot(page, `try-shift-jis-${lang}-${width}`);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }
});
