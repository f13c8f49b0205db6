/**
 * verifyMessage() against messages signed by `openssl cms -sign` (the reference signer): good
 * signatures report the right signer and algorithms; trust anchors, a missing signer
 * certificate and a wrong-purpose signer. Then the engine's own output, round trip, also after
 * every CRLF was turned into a bare LF. Failures are in verify-failures.test.ts.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SAN_EMAILS, createTestPki, type IdentityName, type TestPki } from './helpers/pki';
import { runOk } from './helpers/pki-exec';
import type { OpensslSignOptions } from './helpers/verifiers';
import { newsletterByName } from './fixtures/newsletters';
import { identityFromP12, toLf } from './support/engine';
import { CONTENT, OUTER, assertValid, codes, opensslSigned, rogueRoot } from './support/reference';
import { signMessage, verifyMessage } from '../src';

let pki: TestPki;
let dir: string;
let rogueRootPem: string;
before(async () => {
  pki = await createTestPki();
  dir = await mkdtemp(join(tmpdir(), 'smime-verify-test-'));
  rogueRootPem = await rogueRoot(pki, dir);
});
after(() => rm(dir, { recursive: true, force: true }));

const anchors = () => ({ trustAnchors: [pki.rootPem] });
const signedBy = (name: IdentityName, opts: OpensslSignOptions = {}): Promise<Buffer> =>
  opensslSigned(pki, name, opts);

describe('messages signed by openssl cms -sign', () => {
  const cases: [string, IdentityName, OpensslSignOptions, string, string][] = [
    ['RSA-2048 detached', 'rsa2048', {}, 'sha256', 'rsa-pkcs1-sha256'],
    ['RSA-2048 opaque', 'rsa2048', { opaque: true }, 'sha256', 'rsa-pkcs1-sha256'],
    [
      'RSA-2048 PSS, salt = digest length',
      'rsa2048',
      { pss: true, pssSaltLength: 'digest' },
      'sha256',
      'rsa-pss-sha256',
    ],
    [
      'RSA-2048 PSS, OpenSSL default (max) salt',
      'rsa2048',
      { pss: true },
      'sha256',
      'rsa-pss-sha256',
    ],
    [
      'RSA-3072 PSS SHA-512 opaque',
      'rsa3072',
      { pss: true, digest: 'sha512', opaque: true },
      'sha512',
      'rsa-pss-sha512',
    ],
    ['P-256 detached', 'p256', {}, 'sha256', 'ecdsa-sha256'],
    ['P-256 opaque', 'p256', { opaque: true }, 'sha256', 'ecdsa-sha256'],
    ['P-384 SHA-384', 'p384', { digest: 'sha384' }, 'sha384', 'ecdsa-sha384'],
  ];
  for (const [label, name, opts, digest, sigAlg] of cases) {
    test(`${label}: valid, with the right signer and algorithms`, async () => {
      const before = Date.now();
      const msg = await signedBy(name, opts);
      const r = await verifyMessage(msg, anchors());
      assertValid(r, label);
      const cert = new X509Certificate(pki.identities[name].certPem);
      assert.equal(r.format, opts.opaque ? 'opaque' : 'detached');
      assert.equal(r.digestAlgorithm, digest);
      assert.equal(r.signatureAlgorithm, sigAlg);
      assert.equal(r.chainTrusted, true);
      assert.equal(r.from, 'news@example.com');
      assert.equal(r.fromMatches, true);
      assert.ok(r.signer, 'signer reported');
      const cn = /CN=([^/]+)/.exec(pki.identities[name].subject)?.[1] ?? assert.fail('CN');
      assert.ok(r.signer.subject.includes(`CN=${cn}`), r.signer.subject);
      assert.match(r.signer.issuer, /CN=smime-relay Test Intermediate CA/);
      assert.deepEqual([...r.signer.emailAddresses].sort(), [...SAN_EMAILS].sort());
      assert.equal(r.signer.serialNumber.toUpperCase(), cert.serialNumber.toUpperCase());
      assert.equal(r.signer.fingerprintSha256, cert.fingerprint256.replace(/:/g, '').toLowerCase());
      assert.equal(r.signer.notBefore, new Date(cert.validFrom).toISOString());
      assert.equal(r.signer.notAfter, new Date(cert.validTo).toISOString());
      const signedAt = Date.parse(r.signingTime ?? '');
      assert.ok(
        signedAt >= before - 2000 && signedAt <= Date.now() + 2000,
        `signingTime ${r.signingTime}`,
      );
    });
  }

  test('no trust anchors: valid, chainTrusted null', async () => {
    const r = await verifyMessage(await signedBy('rsa2048'));
    assertValid(r, 'no anchors');
    assert.equal(r.chainTrusted, null);
  });

  test('wrong trust anchor: chain_untrusted, chainTrusted false', async () => {
    const msg = await signedBy('p256');
    const r = await verifyMessage(msg, { trustAnchors: [rogueRootPem] });
    assert.deepEqual(codes(r), ['chain_untrusted']);
    assert.equal(r.chainTrusted, false);
    assert.equal(r.valid, false);
    assert.equal(r.signatureValid, true, 'the signature itself is fine');
    const both = await verifyMessage(msg, { trustAnchors: [rogueRootPem, pki.rootPem] });
    assertValid(both, 'one good anchor among others');
  });

  test('signer certificate not in the message: signer_certificate_missing', async () => {
    await writeFile(join(dir, 'content.eml'), CONTENT);
    // prettier-ignore
    await runOk('openssl', [
      'cms', '-sign', '-nocerts', '-signer', pki.identities.rsa2048.certPath,
      '-inkey', pki.identities.rsa2048.keyPath, '-binary', '-outform', 'SMIME',
      '-in', join(dir, 'content.eml'), '-out', join(dir, 'nocerts.eml'),
    ]);
    const msg = Buffer.concat([Buffer.from(OUTER), await readFile(join(dir, 'nocerts.eml'))]);
    const r = await verifyMessage(msg, anchors());
    assert.ok(codes(r).includes('signer_certificate_missing'), JSON.stringify(r.errors));
    assert.equal(r.valid, false);
  });

  test('a signer with the wrong purpose (serverAuth only): certificate_wrong_purpose', async () => {
    const r = await verifyMessage(await signedBy('serverAuthOnly'), anchors());
    assert.deepEqual(codes(r), ['certificate_wrong_purpose']);
    assert.equal(r.valid, false);
  });
});

describe('round trip and bare-LF copies', () => {
  const names = [
    'listmonk-alternative-qp-crlf',
    'utf8-8bit-alternative',
    'phplist-lf-mixed-calendar',
    'edge-lines-7bit',
  ];
  for (const name of names) {
    for (const format of ['detached', 'opaque'] as const) {
      test(`${name} ${format}: own output verifies, also with every CRLF turned into LF`, async () => {
        const signed = await signMessage(newsletterByName(name).raw, identityFromP12(pki, 'p384'), {
          format,
        });
        assertValid(await verifyMessage(signed, anchors()), 'CRLF');
        const lf = toLf(signed);
        assert.ok(!lf.includes('\r'), 'no CR left');
        const r = await verifyMessage(lf, anchors());
        assertValid(r, 'LF');
        assert.equal(r.chainTrusted, true);
        assert.equal(r.format, format);
      });
    }
  }

  test('an LF copy of an OpenSSL-signed message verifies', async () => {
    assertValid(await verifyMessage(toLf(await signedBy('rsa2048')), anchors()), 'LF');
  });
});
