/**
 * verifyMessage() must notice every failure a receiver cares about, on messages signed by
 * OpenSSL and by the engine: one byte of content or signature changed, content appended, From:
 * changed after signing, an unsigned message, garbage instead of CMS, an expired signer.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createTestPki, type IdentityName, type TestPki } from './helpers/pki';
import type { OpensslSignOptions } from './helpers/verifiers';
import { seededBytes } from './fixtures/newsletter-parts';
import { newsletterByName } from './fixtures/newsletters';
import { readMessageCms } from './support/cms';
import { identityFromP12, replaceCms, replaceOnce } from './support/engine';
import { OUTER, UNSIGNED, assertValid, codes, opensslSigned } from './support/reference';
import { signMessage, verifyMessage } from '../src';

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});

const anchors = () => ({ trustAnchors: [pki.rootPem] });
const signedBy = (name: IdentityName, opts: OpensslSignOptions = {}): Promise<Buffer> =>
  opensslSigned(pki, name, opts);

/** Flips one bit of the byte at `offset` of the CMS of `msg`. */
function flipCmsByte(
  msg: Buffer,
  offset: (cms: ReturnType<typeof readMessageCms>) => number,
): Buffer {
  const cms = readMessageCms(msg);
  const der = Buffer.from(cms.der);
  der[offset(cms)] ^= 0x01;
  return replaceCms(msg, der);
}

describe('tampered copies', () => {
  const sources: [string, () => Promise<Buffer>][] = [
    ['openssl RSA detached', () => signedBy('rsa2048')],
    ['openssl RSA opaque', () => signedBy('rsa2048', { opaque: true })],
    ['openssl P-256 detached', () => signedBy('p256')],
    [
      'engine RSA-PSS detached',
      async () => signMessage(UNSIGNED, identityFromP12(pki, 'rsa2048'), { rsaPss: true }),
    ],
    [
      'engine P-256 opaque',
      async () => signMessage(UNSIGNED, identityFromP12(pki, 'p256'), { format: 'opaque' }),
    ],
  ];
  for (const [label, make] of sources) {
    test(`${label}: content byte, signature byte, appended content`, async () => {
      const msg = await make();
      assertValid(await verifyMessage(msg, anchors()), 'untampered');
      const opaque = readMessageCms(msg).eContent !== undefined;

      const contentChanged = opaque
        ? flipCmsByte(msg, (cms) => {
            const at = cms.der.indexOf('Hello newsletter');
            assert.ok(at > 0, 'eContent text found');
            return at;
          })
        : replaceOnce(msg, 'Hello newsletter', 'Jello newsletter');
      const r1 = await verifyMessage(contentChanged, anchors());
      assert.deepEqual(codes(r1), ['digest_mismatch'], 'one content byte changed');
      assert.equal(r1.valid, false);
      assert.equal(r1.signatureValid, false);

      const sigChanged = flipCmsByte(msg, (cms) => {
        const sig = cms.signerInfos[0].signature;
        return sig.contentOffset + sig.content.length - 6;
      });
      const r2 = await verifyMessage(sigChanged, anchors());
      assert.deepEqual(codes(r2), ['bad_signature'], 'one signature byte changed');
      assert.equal(r2.valid, false);
      assert.equal(r2.signatureValid, false);

      if (!opaque) {
        const appended = replaceOnce(
          msg,
          'autumn release notes.\r\n',
          'autumn release notes.\r\nP.S. Click here!\r\n',
        );
        const r3 = await verifyMessage(appended, anchors());
        assert.deepEqual(codes(r3), ['digest_mismatch'], 'content appended');
        assert.equal(r3.valid, false);
      }
    });
  }
});

describe('From:, unsigned and unreadable messages', () => {
  test('From: changed to another address after signing: from_mismatch', async () => {
    const id = identityFromP12(pki, 'rsa2048');
    const raw = newsletterByName('listmonk-alternative-qp-crlf').raw;
    for (const msg of [
      await signedBy('rsa2048'),
      await signMessage(raw, id),
      await signMessage(raw, id, { format: 'opaque' }),
    ]) {
      const changed = replaceOnce(
        msg,
        'From: "Example News" <news@example.com>',
        'From: "Example News" <billing@example.org>',
      );
      const r = await verifyMessage(changed, anchors());
      assert.deepEqual(codes(r), ['from_mismatch']);
      assert.equal(r.from, 'billing@example.org');
      assert.equal(r.fromMatches, false);
      assert.equal(r.signatureValid, true, 'From: is outside the signature');
      assert.equal(r.valid, false);
    }
  });

  test('a SHA-1 signature verifies but is reported as weak_digest', async () => {
    const r = await verifyMessage(
      await opensslSigned(pki, 'rsa2048', { digest: 'sha1' }),
      anchors(),
    );
    assert.equal(r.signatureValid, true, 'the signature itself is intact');
    assert.equal(r.digestAlgorithm, 'sha1');
    assert.deepEqual(codes(r), ['weak_digest']);
    assert.equal(r.valid, false);
  });

  test('an unsigned message: not_signed', async () => {
    for (const raw of [
      newsletterByName('listmonk-alternative-qp-crlf').raw,
      newsletterByName('no-mime-ascii').raw,
    ]) {
      const r = await verifyMessage(raw, anchors());
      assert.deepEqual(codes(r), ['not_signed']);
      assert.equal(r.valid, false);
    }
    const enveloped = Buffer.from(
      `${OUTER}MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n` +
        `Content-Transfer-Encoding: base64\r\n\r\n${seededBytes(300, 5).toString('base64')}\r\n`,
    );
    assert.deepEqual(codes(await verifyMessage(enveloped)), ['not_signed']);
  });

  test('garbage in the signature part or opaque body: bad_signature_format', async () => {
    for (const msg of [await signedBy('rsa2048'), await signedBy('p256', { opaque: true })]) {
      const r = await verifyMessage(replaceCms(msg, seededBytes(900, 77)), anchors());
      assert.deepEqual(codes(r), ['bad_signature_format']);
      assert.equal(r.valid, false);
      assert.equal(r.signatureValid, false);
    }
  });
});

describe('expired signer', () => {
  test('certificate_expired at a now after notAfter, valid inside the validity', async () => {
    const raw = UNSIGNED;
    const msg = await signMessage(raw, identityFromP12(pki, 'expired'), {
      now: new Date('2020-06-01T00:00:00Z'),
    });
    const late = await verifyMessage(msg, { now: new Date('2021-06-01T00:00:00Z') });
    assert.deepEqual(codes(late), ['certificate_expired']);
    assert.equal(late.valid, false);
    assert.equal(late.signatureValid, true);
    assertValid(
      await verifyMessage(msg, { now: new Date('2020-07-01T00:00:00Z') }),
      'inside validity',
    );
    assert.ok(codes(await verifyMessage(msg)).includes('certificate_expired'), 'default now');
    const viaOpenssl = await verifyMessage(await signedBy('expired'), anchors());
    assert.ok(codes(viaOpenssl).includes('certificate_expired'), JSON.stringify(viaOpenssl.errors));
  });
});
