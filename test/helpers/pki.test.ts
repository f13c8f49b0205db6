/**
 * Checks that createTestPki() builds what its documentation promises.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  KEY_PASSWORD,
  LEGACY_EMAIL,
  P12_PASSWORD,
  SAN_EMAILS,
  createTestPki,
  type IdentityName,
  type TestPki,
} from './pki';
import { runOk } from './pki-exec';

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});

const openssl = async (...args: string[]): Promise<string> => {
  const r = await runOk('openssl', args);
  return r.stdout + r.stderr;
};

test('createTestPki is cached per process', async () => {
  assert.equal(await createTestPki(), pki);
});

test('root and intermediate CAs', async () => {
  const root = new X509Certificate(pki.rootPem);
  const int = new X509Certificate(pki.intermediatePem);
  assert.ok(root.ca && int.ca);
  assert.ok(root.checkIssued(root) && root.verify(root.publicKey), 'root is self-signed');
  assert.ok(int.checkIssued(root) && int.verify(root.publicKey), 'intermediate issued by root');
  const text = await openssl('x509', '-in', pki.rootPath, '-noout', '-text');
  assert.match(text, /Basic Constraints: critical\s+CA:TRUE/);
  assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
  assert.match(await openssl('x509', '-in', pki.intermediatePath, '-noout', '-text'), /pathlen:0/);
  assert.equal(readFileSync(pki.bundlePath, 'utf8'), pki.intermediatePem + pki.rootPem);
});

const KEY_DETAILS: Record<string, [string, number | string]> = {
  rsa1024: ['rsa', 1024],
  rsa2048: ['rsa', 2048],
  rsa3072: ['rsa', 3072],
  p256: ['ec', 'prime256v1'],
  p384: ['ec', 'secp384r1'],
};

for (const name of Object.keys(KEY_DETAILS).concat([
  'legacyEmail',
  'expired',
  'notYetValid',
  'serverAuthOnly',
  'noDigitalSignature',
  'mismatchedKey',
])) {
  test(`identity ${name}`, async () => {
    const id = pki.identities[name as IdentityName];
    const cert = new X509Certificate(id.certPem);
    const int = new X509Certificate(pki.intermediatePem);
    assert.ok(cert.checkIssued(int) && cert.verify(int.publicKey), 'issued by the intermediate');
    assert.equal(cert.ca, false);
    const [type, size] = KEY_DETAILS[id.keyType];
    assert.equal(cert.publicKey.asymmetricKeyType, type);
    const d = cert.publicKey.asymmetricKeyDetails;
    assert.equal(type === 'rsa' ? d?.modulusLength : d?.namedCurve, size);
    assert.match(id.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    const key = createPrivateKey(id.keyPem);
    assert.equal(cert.checkPrivateKey(key), name !== 'mismatchedKey', 'key matches cert');

    const text = await openssl('x509', '-in', id.certPath, '-noout', '-text');
    const now = Date.now();
    if (name === 'expired') {
      assert.ok(Date.parse(cert.validTo) < now);
      assert.equal(cert.validFrom, 'Jan  1 00:00:00 2020 GMT');
    } else if (name === 'notYetValid') {
      assert.ok(Date.parse(cert.validFrom) > now + 10 * 365 * 86400_000);
    } else {
      assert.ok(Date.parse(cert.validFrom) <= now && Date.parse(cert.validTo) > now);
    }
    if (name === 'legacyEmail') {
      assert.deepEqual(id.emails, [LEGACY_EMAIL]);
      assert.equal(cert.subjectAltName, undefined);
      assert.match(cert.subject, new RegExp(`emailAddress=${LEGACY_EMAIL}`));
    } else {
      assert.deepEqual(id.emails, [...SAN_EMAILS]);
      assert.equal(cert.subjectAltName, SAN_EMAILS.map((e) => `email:${e}`).join(', '));
    }
    assert.match(cert.subject, /^CN=.+\nO=Example Org/);
    const ku =
      name === 'noDigitalSignature' ? 'Key Encipherment' : 'Digital Signature, Non Repudiation';
    assert.match(text, new RegExp(`Key Usage: critical\\s+${ku}\\n`));
    // X509Certificate#keyUsage is the extended key usage list.
    const eku = name === 'serverAuthOnly' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.4';
    assert.deepEqual(cert.keyUsage, [eku]);

    if (name === 'mismatchedKey') {
      assert.equal(id.p12, undefined);
    } else {
      assert.ok(id.p12 && id.p12Path);
      const info = await openssl(
        'pkcs12',
        '-info',
        '-nokeys',
        '-in',
        id.p12Path,
        '-passin',
        `pass:${P12_PASSWORD}`,
      );
      assert.match(info, /MAC: sha256/);
      assert.match(info, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC/);
      assert.match(info, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC/);
      assert.equal(info.match(/-----BEGIN CERTIFICATE-----/g)?.length, 2, 'cert + intermediate');
    }
  });
}

for (const name of ['rsa2048', 'p256'] as const) {
  test(`identity ${name}: extra key and PKCS#12 encodings`, async () => {
    const id = pki.identities[name];
    const cert = new X509Certificate(id.certPem);
    const label = name === 'rsa2048' ? 'RSA' : 'EC';
    assert.match(id.pkcs1or_sec1KeyPem ?? '', new RegExp(`^-----BEGIN ${label} PRIVATE KEY-----`));
    assert.ok(cert.checkPrivateKey(createPrivateKey(id.pkcs1or_sec1KeyPem ?? '')));
    assert.match(id.encryptedKeyPem ?? '', /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.throws(() => createPrivateKey(id.encryptedKeyPem ?? ''));
    const dec = createPrivateKey({ key: id.encryptedKeyPem ?? '', passphrase: KEY_PASSWORD });
    assert.ok(cert.checkPrivateKey(dec));

    assert.ok(id.p12LegacyPath && id.p12Legacy);
    const legacy = await openssl(
      ...['pkcs12', '-info', '-nokeys', '-legacy', '-in', id.p12LegacyPath],
      ...['-passin', `pass:${P12_PASSWORD}`],
    );
    assert.match(legacy, /MAC: sha1/);
    assert.match(legacy, /PKCS7 Encrypted data: pbeWithSHA1And40BitRC2-CBC/);
    assert.match(legacy, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/);

    assert.ok(id.p12NoPasswordPath && id.p12NoPassword);
    const nopass = await openssl(
      'pkcs12',
      '-info',
      '-nokeys',
      '-in',
      id.p12NoPasswordPath,
      '-passin',
      'pass:',
    );
    assert.match(nopass, /MAC: sha256/);
    assert.equal(nopass.match(/-----BEGIN CERTIFICATE-----/g)?.length, 2);
  });
}
