/**
 * The outer header block and the delimiter lines are held to the signed entity's rules:
 * NUL, bare CR, 8-bit in fields that cannot carry encoded-words, non-ASCII addresses, lines
 * over 998 octets and unusable boundaries are refused (library and CLI alike; the relay's
 * intake in test/relay/intake-policy.test.ts); what is signed passes OpenSSL, gpgsm and NSS.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { P12_PASSWORD, createTestPki, type TestPki } from './helpers/pki';
import { verifyWithAll } from './helpers/verifiers';
import { assertFailure, cli } from './support/cli';
import { assertRelayError, identityFromP12 } from './support/engine';
import { signMessage, type ErrorCode } from '../src';

let pki: TestPki;
let dir: string;
before(async () => {
  pki = await createTestPki();
  dir = await mkdtemp(join(tmpdir(), 'smime-outer-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A newsletter from news@example.com with `fields` (latin1 strings) in its outer header. */
function newsletter(
  fields: string[],
  contentType = 'text/plain; charset=us-ascii',
  body = 'Hello.\r\n',
) {
  return Buffer.from(
    [
      'From: "Example News" <news@example.com>',
      ...fields,
      'MIME-Version: 1.0',
      `Content-Type: ${contentType}`,
      '',
      body,
    ].join('\r\n'),
    'latin1',
  );
}

const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
const sign = (raw: Buffer) => signMessage(raw, identityFromP12(pki, 'p256'));

const REFUSED: [string, ErrorCode, Buffer][] = [
  [
    '8-bit in a To: domain',
    'international_address',
    newsletter([`To: reader@${utf8('custÆmer')}.example`]),
  ],
  [
    'an encoded display name over a non-ASCII local part',
    'international_address',
    newsletter([`To: =?utf-8?B?Sm9zw6k=?= <${utf8('josé')}@example.com>`]),
  ],
  [
    'an IDN domain in U-labels',
    'international_address',
    newsletter([`Reply-To: support@${utf8('例え')}.jp`]),
  ],
  [
    'a NUL in Message-ID',
    'malformed_message',
    newsletter(['To: r@example.net', 'Message-ID: <m02@shop.exam\0le>']),
  ],
  ['a NUL in MIME-Version', 'malformed_message', newsletter(['MIME-Version: 1\u00000'])],
  ['a NUL after an encoded-word', 'malformed_message', newsletter(['Subject: =?utf-8?B?SGk=?=\0'])],
  ['a bare CR in a field', 'malformed_message', newsletter(['Subject: one\rtwo'])],
  [
    '8-bit in Message-ID',
    'malformed_message',
    newsletter([`Message-ID: <${utf8('ü')}@example.com>`]),
  ],
  [
    '8-bit in Date',
    'malformed_message',
    newsletter([`Date: Tue, 03 Sep 2024 09:30:00 +0200 ${utf8('Ü')}`]),
  ],
  [
    '8-bit in List-Unsubscribe',
    'malformed_message',
    newsletter([`List-Unsubscribe: <https://example.com/${utf8('ü')}>`]),
  ],
  [
    'an outer line of 1,000,001 octets with no fold point',
    'malformed_message',
    newsletter([`X-Long: ${'a'.repeat(1_000_001)}`]),
  ],
  [
    'a 998-character boundary with a space',
    'malformed_message',
    newsletter([], `multipart/mixed; boundary="${'b'.repeat(500)} ${'b'.repeat(497)}"`, 'x\r\n'),
  ],
  [
    'a boundary with a character RFC 2046 does not allow',
    'malformed_message',
    newsletter([], 'multipart/mixed; boundary="a;b"', '--a;b\r\n\r\nx\r\n--a;b--\r\n'),
  ],
];

describe('outer header fields and delimiter lines', () => {
  for (const [name, code, raw] of REFUSED) {
    test(`refused (${code}): ${name}`, async () => {
      await assertRelayError(() => sign(raw), code, []);
    });
  }

  test('the CLI refuses with the same code, exit 4 and one line', async () => {
    const file = join(dir, 'idn.eml');
    await writeFile(file, REFUSED[0][2]);
    const p12 = pki.identities.p256.p12Path ?? '';
    const r = await cli(['sign', '--cert', p12, '--password-env', 'PW', '--in', file], {
      env: { PW: P12_PASSWORD },
    });
    assertFailure(r, 4, 'international_address');
  });

  test('what is repairable is signed, and the three verifiers accept it', async () => {
    const boundary = `${'b'.repeat(35)} ${'c'.repeat(34)}`; // 70 characters, a space inside
    const cases = [
      newsletter([`To: reader@xn--r8jz45g.jp`, `Subject: ${utf8('春のセール – Grüße')}`]),
      newsletter([`To: ${utf8('"Jürgen Müller"')} <j@example.net>`, 'X-Campaign: 7']),
      newsletter(
        ['To: r@example.net'],
        `multipart/mixed; boundary="${boundary}"`,
        `--${boundary}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${boundary}--\r\n`,
      ),
    ];
    // A Japanese body labelled 8bit goes as base64 (smaller than quoted-printable).
    const japanese = newsletter(
      ['To: r@example.net'],
      'text/plain; charset=utf-8',
      utf8('今週のニュースレターです。春のセールは三月末まで。\r\n').repeat(50),
    );
    cases.push(
      Buffer.from(
        japanese
          .toString('latin1')
          .replace(
            'Content-Type: text/plain; charset=utf-8',
            'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit',
          ),
        'latin1',
      ),
    );
    for (const raw of cases) {
      const signed = await sign(raw);
      const header = signed.toString('latin1', 0, signed.indexOf('\r\n\r\n'));
      assert.ok(!/[\x80-\xff]/.test(header), header);
      const verdicts = await verifyWithAll(signed, pki);
      for (const [verifier, v] of Object.entries(verdicts))
        assert.ok(v.ok, `${verifier}: ${v.output}`);
    }
  });
});
