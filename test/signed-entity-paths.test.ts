/**
 * The engine skips per-part checks when one scan shows the whole message is already safe
 * (7-bit, CRLF, no unsafe body line) and re-encodes parts otherwise. Either way the signed
 * entity must follow the same rules (RFC 8551 §3.1 and the engine's transit rules): no part
 * labelled 8bit or binary, no line ending in a blank, and unreadable parts treated alike.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createTestPki, type TestPki } from './helpers/pki';
import { splitSignedMessage, verifyWithOpenssl } from './helpers/verifiers';
import { newsletterCorpus } from './fixtures/newsletters';
import { assertRelayError, identityFromP12 } from './support/engine';
import { signMessage, type SigningIdentity } from '../src';

const TOP =
  'From: "Example News" <news@example.com>\r\nTo: jane.doe@example.net\r\n' +
  'Subject: Paths\r\nDate: Tue, 03 Sep 2024 09:30:00 +0200\r\nMIME-Version: 1.0\r\n';
const message = (s: string): Buffer => Buffer.from(TOP + s, 'latin1');
/** One 8-bit octet in an unrelated text part moves a message off the fast path. */
const EIGHT_BIT_PART =
  '--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
  'Gr\xc3\xbc\xc3\x9fe\r\n';

let pki: TestPki;
let id: SigningIdentity;
before(async () => {
  pki = await createTestPki();
  id = identityFromP12(pki, 'rsa2048');
});

/** The signed entity (first part) of a detached signature made by the engine. */
async function signedEntity(raw: Buffer): Promise<string> {
  const signed = await signMessage(raw, id);
  const res = await verifyWithOpenssl(signed, pki);
  assert.ok(res.ok, res.output);
  const parts = splitSignedMessage(signed);
  assert.equal(parts.kind, 'detached');
  return parts.kind === 'detached' ? parts.content.toString('latin1') : '';
}

describe('no part of the signed entity is labelled 8bit or binary', () => {
  const labels = [
    'Content-Transfer-Encoding: 8bit',
    'content-transfer-encoding: BINARY',
    'CONTENT-TRANSFER-ENCODING: 8Bit',
    'Content-Transfer-EnCoding: 8bit',
    'Content-transfer-encoding:\t8bit',
    // RFC 5322 §4.5.3 obsolete syntax: blanks between field name and colon.
    'Content-Transfer-Encoding : 8bit',
  ];
  for (const label of labels) {
    test(`7-bit text labelled ${JSON.stringify(label)}`, async () => {
      const raw = message(
        'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n' +
          `Content-Type: text/plain; charset=us-ascii\r\n${label}\r\n\r\nHello readers.\r\n--b--\r\n`,
      );
      const entity = await signedEntity(raw);
      assert.doesNotMatch(entity, /^content-transfer-encoding[ \t]*:[ \t]*(8bit|binary)\b/im);
      assert.match(entity, /Hello readers\./);
    });
  }
});

describe('no line of the signed entity ends in a blank', () => {
  const noTrailingBlank = (entity: string, what: string): void => {
    const bad = entity.split('\r\n').filter((l) => /[ \t]$/.test(l));
    assert.deepEqual(bad, [], `${what}: lines ending in a blank do not survive every MTA`);
  };

  test('every corpus newsletter', async () => {
    for (const n of newsletterCorpus()) noTrailingBlank(await signedEntity(n.raw), n.name);
  });

  test('transport padding after a boundary delimiter (RFC 2046 §5.1.1) is not kept', async () => {
    const raw = message(
      'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n--b1  \r\n' +
        'Content-Type: text/plain\r\n\r\nhello\r\n--b1\t\r\nContent-Type: text/html\r\n\r\n' +
        '<p>hello</p>\r\n--b1--\r\n',
    );
    noTrailingBlank(await signedEntity(raw), 'padded delimiters');
  });
});

describe('a part the engine cannot read is kept when safe and refused when it needs re-encoding', () => {
  const cases: [string, (extra: string) => string][] = [
    [
      'a body part whose header block holds a line that is no header field',
      (extra) =>
        'Content-Type: multipart/mixed; boundary=b\r\n\r\n' +
        '--b\r\nthis line is not a header field\r\nContent-Type: text/plain\r\n\r\nhello\r\n' +
        `${extra}--b--\r\n`,
    ],
    [
      'multiparts nested 40 deep',
      (extra) =>
        'Content-Type: multipart/mixed; boundary=b\r\n\r\n' +
        '--b\r\nContent-Type: multipart/mixed; boundary="d1"\r\n\r\n' +
        Array.from(
          { length: 39 },
          (_, i) =>
            `--d${i + 1}\r\n` + `Content-Type: multipart/mixed; boundary="d${i + 2}"\r\n\r\n`,
        ).join('') +
        '--d40\r\nContent-Type: text/plain\r\n\r\nx\r\n--d40--\r\n' +
        Array.from({ length: 39 }, (_, i) => `--d${39 - i}--\r\n`).join('') +
        `${extra}--b--\r\n`,
    ],
  ];
  for (const [name, build] of cases) {
    test(name, async () => {
      // Whether or not another part needs re-encoding, the odd part is kept byte for byte.
      for (const extra of [EIGHT_BIT_PART, '']) {
        const raw = message(build(extra));
        const entity = await signedEntity(raw);
        const odd = build('').split('\r\n\r\n').slice(1).join('\r\n\r\n').split('--b--')[0];
        assert.ok(entity.includes(odd.slice(0, 200)), 'the unreadable part keeps its bytes');
      }
    });
  }
  test('an unreadable part that needs re-encoding is refused', async () => {
    const raw = message(
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n' +
        '--b\r\nthis line is not a header field\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n--b--\r\n',
    );
    await assertRelayError(() => signMessage(raw, id), 'malformed_message');
  });
});

describe('raw 8-bit outer header fields', () => {
  test('are made 7-bit as encoded-words, and the message still signs and verifies', async () => {
    const raw = Buffer.from(
      'From: "Müller Nachrichten" <news@example.com>\r\nTo: jane.doe@example.net\r\n' +
        'Subject: Grüße aus Köln – 春のセール\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
        'Hallo Welt.\r\n',
      'utf8',
    );
    const signed = await signMessage(raw, id);
    assert.ok(!/[\x80-\xff]/.test(signed.toString('latin1')), 'the whole output is 7-bit');
    const head = signed.toString('latin1').split('\r\n\r\n')[0];
    assert.match(head, /^Subject: .*=\?utf-8\?B\?/m);
    assert.match(head, /<news@example\.com>/);
    const res = await verifyWithOpenssl(signed, pki);
    assert.ok(res.ok, res.output);
  });
});
