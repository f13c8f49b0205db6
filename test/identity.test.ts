/**
 * loadSigningIdentity() with every supported input format, each followed by a real signature
 * that OpenSSL verifies. The error codes are tested in identity-errors.test.ts.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import {
  KEY_PASSWORD,
  LEGACY_EMAIL,
  P12_PASSWORD,
  SAN_EMAILS,
  createTestPki,
  type IdentityName,
  type TestPki,
} from './helpers/pki';
import { verifyWithOpenssl } from './helpers/verifiers';
import { messageFrom } from './support/engine';
import { loadSigningIdentity, signMessage, type IdentityInput, type SigningIdentity } from '../src';

let pki: TestPki;

before(async () => {
  pki = await createTestPki();
});

/** Signs a message (detached and opaque) and has OpenSSL verify both. */
async function assertSignsAndVerifies(identity: SigningIdentity, from: string = SAN_EMAILS[0]) {
  for (const format of ['detached', 'opaque'] as const) {
    const signed = await signMessage(messageFrom(from), identity, { format });
    const res = await verifyWithOpenssl(signed, pki);
    assert.ok(res.ok, `openssl rejected the ${format} signature:\n${res.output}`);
  }
}

describe('loading every supported format, then signing', () => {
  type KeyField = 'keyPem' | 'pkcs1or_sec1KeyPem' | 'encryptedKeyPem';
  const pemFiles =
    (name: IdentityName, key: KeyField = 'keyPem', password?: string) =>
    (p: TestPki): IdentityInput => ({
      certificate: p.identities[name].certPem,
      privateKey: p.identities[name][key],
      chain: p.intermediatePem,
      ...(password !== undefined && { password }),
    });
  const p12File =
    (name: IdentityName, kind: 'p12' | 'p12Legacy' | 'p12NoPassword', password?: string) =>
    (p: TestPki): IdentityInput => ({
      pkcs12: p.identities[name][kind] ?? assert.fail(`${name} has no ${kind}`),
      ...(password !== undefined && { password }),
    });
  const der = (pem: string): Buffer =>
    Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const rsa2048 = (p: TestPki) => p.identities.rsa2048;
  const p256 = (p: TestPki) => p.identities.p256;

  const cases: [string, (p: TestPki) => IdentityInput, keyType: 'rsa' | 'ec'][] = [
    ['PEM cert + PKCS#8 key (RSA-2048) + PEM chain', pemFiles('rsa2048'), 'rsa'],
    ['PEM cert + PKCS#8 key (RSA-3072)', pemFiles('rsa3072'), 'rsa'],
    ['PEM cert + PKCS#8 key (P-256)', pemFiles('p256'), 'ec'],
    ['PEM cert + PKCS#8 key (P-384)', pemFiles('p384'), 'ec'],
    ['PEM cert + PKCS#1 key', pemFiles('rsa2048', 'pkcs1or_sec1KeyPem'), 'rsa'],
    ['PEM cert + SEC1 key', pemFiles('p256', 'pkcs1or_sec1KeyPem'), 'ec'],
    [
      'encrypted PKCS#8 (RSA) + password',
      pemFiles('rsa2048', 'encryptedKeyPem', KEY_PASSWORD),
      'rsa',
    ],
    ['encrypted PKCS#8 (EC) + password', pemFiles('p256', 'encryptedKeyPem', KEY_PASSWORD), 'ec'],
    [
      'files as Buffers: cert, key and the chain file chain.pem',
      (p) => ({
        certificate: readFileSync(rsa2048(p).certPath),
        privateKey: readFileSync(rsa2048(p).keyPath),
        chain: readFileSync(p.chainPath),
      }),
      'rsa',
    ],
    [
      'chain file with intermediate and root (bundle.pem)',
      (p) => ({ ...pemFiles('p256')(p), chain: readFileSync(p.bundlePath) }),
      'ec',
    ],
    [
      'chain as an array of PEM strings, root included',
      (p) => ({ ...pemFiles('rsa2048')(p), chain: [p.rootPem, p.intermediatePem] }),
      'rsa',
    ],
    [
      'DER certificate and DER PKCS#8 key',
      (p) => ({
        ...pemFiles('rsa2048')(p),
        certificate: der(rsa2048(p).certPem),
        privateKey: der(rsa2048(p).keyPem),
      }),
      'rsa',
    ],
    [
      'DER PKCS#1 and SEC1 keys, with a password given that they do not need',
      (p) => ({
        ...pemFiles('p256')(p),
        privateKey: der(p256(p).pkcs1or_sec1KeyPem ?? ''),
        password: 'unused',
      }),
      'ec',
    ],
    [
      'encrypted DER PKCS#8 key + password',
      (p) => ({
        ...pemFiles('rsa2048')(p),
        privateKey: der(rsa2048(p).encryptedKeyPem ?? ''),
        password: KEY_PASSWORD,
      }),
      'rsa',
    ],
    [
      'combined PEM: cert + key in one string',
      (p) => ({ certificate: rsa2048(p).certPem + rsa2048(p).keyPem, chain: p.intermediatePem }),
      'rsa',
    ],
    [
      'combined PEM: key, cert and intermediate in one string',
      (p) => ({ certificate: p256(p).keyPem + p256(p).certPem + p.intermediatePem }),
      'ec',
    ],
    ['modern PKCS#12 (RSA-2048)', p12File('rsa2048', 'p12', P12_PASSWORD), 'rsa'],
    ['modern PKCS#12 (P-384)', p12File('p384', 'p12', P12_PASSWORD), 'ec'],
    ['legacy PKCS#12, RC2-40 + 3DES (RSA)', p12File('rsa2048', 'p12Legacy', P12_PASSWORD), 'rsa'],
    ['legacy PKCS#12, RC2-40 + 3DES (EC)', p12File('p256', 'p12Legacy', P12_PASSWORD), 'ec'],
    ['PKCS#12, empty password, password ""', p12File('rsa2048', 'p12NoPassword', ''), 'rsa'],
    ['PKCS#12, empty password, none given', p12File('p256', 'p12NoPassword'), 'ec'],
  ];
  for (const [name, input, keyType] of cases) {
    test(name, async () => {
      const identity = loadSigningIdentity(input(pki));
      assert.equal(identity.keyType, keyType);
      assert.deepEqual([...identity.emailAddresses].sort(), [...SAN_EMAILS].sort());
      assert.deepEqual(
        identity.chain.map((c) => c.der.toString('base64')),
        [new X509Certificate(pki.intermediatePem).raw.toString('base64')],
        'the chain is the intermediate only',
      );
      await assertSignsAndVerifies(identity);
    });
  }

  test('legacy certificate: the address comes from the subject emailAddress', async () => {
    const id = pki.identities.legacyEmail;
    const identity = loadSigningIdentity({
      pkcs12: id.p12 ?? Buffer.alloc(0),
      password: P12_PASSWORD,
    });
    assert.deepEqual(identity.emailAddresses, [LEGACY_EMAIL]);
    await assertSignsAndVerifies(identity, LEGACY_EMAIL);
    await assert.rejects(signMessage(messageFrom(SAN_EMAILS[0]), identity), {
      code: 'from_mismatch',
    });
  });

  test('an expired identity loads and signs for an instant inside its validity', async () => {
    const id = pki.identities.expired;
    const identity = loadSigningIdentity({ certificate: id.certPem, privateKey: id.keyPem });
    const signed = await signMessage(messageFrom(SAN_EMAILS[0]), identity, {
      now: new Date('2020-06-01T12:00:00Z'),
    });
    assert.match(signed.toString('latin1'), /^Content-Type: multipart\/signed;/m);
  });
});
