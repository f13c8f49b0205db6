/**
 * One negative test (or more) for every error code of the identity and message categories of
 * src/plugin/error-codes.ts: the right RelayError code, permanent, one line, and no password,
 * key material or message body in the text.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  KEY_PASSWORD,
  P12_PASSWORD,
  createTestPki,
  type IdentityName,
  type TestPki,
} from './helpers/pki';
import { runOk } from './helpers/pki-exec';
import { createChainPki } from './helpers/chain-pki';
import { verifyWithOpenssl } from './helpers/verifiers';
import { seededBytes } from './fixtures/newsletter-parts';
import { fromProblemInputs, malformedInputs } from './fixtures/newsletters';
import {
  WRONG_PASSWORD,
  assertRelayError,
  identityFromP12,
  messageFrom,
  replaceOnce,
} from './support/engine';
import { ERROR_CODES, loadSigningIdentity, signMessage, type ErrorCode } from '../src';

let pki: TestPki;
let dir: string;
before(async () => {
  pki = await createTestPki();
  dir = await mkdtemp(join(tmpdir(), 'smime-identity-errors-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** Every code a test below expects; compared with the table at the end. */
const covered = new Set<ErrorCode>();
function expectCode(name: string, code: ErrorCode, fn: () => unknown, forbidden?: () => string[]) {
  covered.add(code);
  test(`${code}: ${name}`, async () => {
    await assertRelayError(fn, code, forbidden?.() ?? []);
  });
}

const pem = (name: IdentityName) => pki.identities[name];
const keyBody = (keyPem: string): string[] =>
  keyPem.split('\n').filter((l) => l.length > 40 && !l.startsWith('-----'));

describe('identity errors', () => {
  expectCode('garbage bytes as the certificate', 'bad_certificate', () =>
    loadSigningIdentity({ certificate: seededBytes(600, 42), privateKey: pem('rsa2048').keyPem }),
  );
  expectCode('garbage text as the certificate', 'bad_certificate', () =>
    loadSigningIdentity({ certificate: 'not a certificate', privateKey: pem('rsa2048').keyPem }),
  );
  expectCode('a PEM CERTIFICATE block with a broken body', 'bad_certificate', () =>
    loadSigningIdentity({
      certificate: '-----BEGIN CERTIFICATE-----\nTUlJQ2Jyb2tlbg==\n-----END CERTIFICATE-----\n',
      privateKey: pem('rsa2048').keyPem,
    }),
  );
  expectCode('a private key where the certificate belongs', 'bad_certificate', () =>
    loadSigningIdentity({ certificate: pem('p256').keyPem, privateKey: pem('p256').keyPem }),
  );
  expectCode('garbage bytes as PKCS#12', 'bad_certificate', () =>
    loadSigningIdentity({ pkcs12: seededBytes(2000, 7), password: P12_PASSWORD }),
  );
  expectCode('a PEM certificate passed as PKCS#12', 'bad_certificate', () =>
    loadSigningIdentity({ pkcs12: Buffer.from(pem('rsa2048').certPem), password: P12_PASSWORD }),
  );

  expectCode('wrong password for a modern PKCS#12', 'bad_password', () =>
    loadSigningIdentity({
      pkcs12: pem('rsa2048').p12 ?? Buffer.alloc(0),
      password: WRONG_PASSWORD,
    }),
  );
  expectCode('wrong password for a legacy PKCS#12', 'bad_password', () =>
    loadSigningIdentity({
      pkcs12: pem('p256').p12Legacy ?? Buffer.alloc(0),
      password: WRONG_PASSWORD,
    }),
  );
  expectCode('no password for a password-protected PKCS#12', 'bad_password', () =>
    loadSigningIdentity({ pkcs12: pem('rsa2048').p12 ?? Buffer.alloc(0) }),
  );
  expectCode('the key password given for the PKCS#12', 'bad_password', () =>
    loadSigningIdentity({ pkcs12: pem('rsa2048').p12 ?? Buffer.alloc(0), password: KEY_PASSWORD }),
  );
  expectCode('wrong password for an encrypted PKCS#8 key', 'bad_password', () =>
    loadSigningIdentity({
      certificate: pem('rsa2048').certPem,
      privateKey: pem('rsa2048').encryptedKeyPem,
      password: WRONG_PASSWORD,
    }),
  );
  expectCode('wrong password for an encrypted DER PKCS#8 key', 'bad_password', () =>
    loadSigningIdentity({
      certificate: pem('rsa2048').certPem,
      privateKey: Buffer.from(
        (pem('rsa2048').encryptedKeyPem ?? '').replace(/-----[^-]+-----|\s/g, ''),
        'base64',
      ),
      password: WRONG_PASSWORD,
    }),
  );
  expectCode('no password for an encrypted PKCS#8 key', 'bad_password', () =>
    loadSigningIdentity({
      certificate: pem('p256').certPem,
      privateKey: pem('p256').encryptedKeyPem,
    }),
  );

  expectCode('garbage text as the private key', 'bad_private_key', () =>
    loadSigningIdentity({ certificate: pem('rsa2048').certPem, privateKey: 'not a key at all' }),
  );
  expectCode('a PRIVATE KEY block with a broken body', 'bad_private_key', () =>
    loadSigningIdentity({
      certificate: pem('rsa2048').certPem,
      privateKey: '-----BEGIN PRIVATE KEY-----\nTUlJQnJva2Vu\n-----END PRIVATE KEY-----\n',
    }),
  );
  expectCode('a certificate where the key belongs', 'bad_private_key', () =>
    loadSigningIdentity({
      certificate: pem('rsa2048').certPem,
      privateKey: pem('rsa2048').certPem,
    }),
  );

  expectCode('certificate without a key', 'no_private_key', () =>
    loadSigningIdentity({ certificate: pem('rsa2048').certPem, chain: pki.intermediatePem }),
  );
  expectCode('PKCS#12 holding certificates only', 'no_private_key', async () => {
    const out = join(dir, 'nokey.p12');
    // prettier-ignore
    await runOk('openssl', [
      'pkcs12', '-export', '-nokeys', '-in', pem('rsa2048').certPath, '-passout', `pass:${P12_PASSWORD}`, '-out', out,
    ]);
    return loadSigningIdentity({ pkcs12: await readFile(out), password: P12_PASSWORD });
  });

  expectCode(
    'the key of another certificate (mismatchedKey)',
    'key_mismatch',
    () =>
      loadSigningIdentity({
        certificate: pem('mismatchedKey').certPem,
        privateKey: pem('mismatchedKey').keyPem,
      }),
    () => keyBody(pem('mismatchedKey').keyPem),
  );
  expectCode('an EC key with an RSA certificate', 'key_mismatch', () =>
    loadSigningIdentity({ certificate: pem('rsa2048').certPem, privateKey: pem('p256').keyPem }),
  );

  expectCode('an intermediate that is not a CA certificate', 'chain_broken', async () => {
    const chains = await createChainPki();
    try {
      const { made } = chains;
      return loadSigningIdentity({
        certificate: made.leafNotCa.pem,
        privateKey: made.leafNotCa.keyPem,
        chain: made.notCa.pem,
      });
    } finally {
      await chains.remove();
    }
  });

  expectCode('RSA-1024 (PEM)', 'weak_key', () =>
    loadSigningIdentity({ certificate: pem('rsa1024').certPem, privateKey: pem('rsa1024').keyPem }),
  );
  expectCode('RSA-1024 (PKCS#12)', 'weak_key', () => identityFromP12(pki, 'rsa1024'));

  for (const [alg, genArgs] of [
    ['Ed25519', ['-algorithm', 'ED25519']],
    ['secp256k1', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1']],
    ['Ed448', ['-algorithm', 'ED448']],
  ] as const) {
    expectCode(`${alg} key with a self-signed certificate`, 'unsupported_key', async () => {
      const key = join(dir, `${alg}.key`);
      const cert = join(dir, `${alg}.pem`);
      await runOk('openssl', ['genpkey', ...genArgs, '-out', key]);
      // prettier-ignore
      await runOk('openssl', [
        'req', '-x509', '-new', '-config', pki.configPath, '-extensions', 'ee_smime', '-key', key,
        '-subj', `/CN=${alg} Sender/O=Example Org`, '-days', '30', '-out', cert,
      ]);
      return loadSigningIdentity({
        certificate: await readFile(cert),
        privateKey: await readFile(key),
      });
    });
  }

  for (const name of ['serverAuthOnly', 'noDigitalSignature'] as const) {
    expectCode(`${name} (PEM)`, 'certificate_wrong_purpose', () =>
      loadSigningIdentity({ certificate: pem(name).certPem, privateKey: pem(name).keyPem }),
    );
    expectCode(`${name} (PKCS#12)`, 'certificate_wrong_purpose', () => identityFromP12(pki, name));
  }

  expectCode('expired certificate, signMessage at the default now', 'certificate_expired', () =>
    signMessage(messageFrom('news@example.com'), identityFromP12(pki, 'expired')),
  );
  expectCode(
    'not-yet-valid certificate, signMessage at the default now',
    'certificate_not_yet_valid',
    () => signMessage(messageFrom('news@example.com'), identityFromP12(pki, 'notYetValid')),
  );
});

/** Body lines of a message (long enough to be recognisable), which errors must not quote. */
function bodyLines(raw: Buffer): string[] {
  const text = raw.toString('latin1');
  const sep = text.search(/\r?\n\r?\n/);
  return (sep < 0 ? text : text.slice(sep))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length >= 16);
}

describe('message errors', () => {
  expectCode('a To: address with a non-ASCII local part', 'international_address', () =>
    signMessage(
      replaceOnce(
        messageFrom('news@example.com'),
        '\r\nTo: ',
        '\r\nTo: jos\u00c3\u00a9@example.net, ',
      ),
      identityFromP12(pki, 'p256'),
    ),
  );
  for (const m of malformedInputs) {
    expectCode(
      m.name,
      'malformed_message',
      () => signMessage(m.raw, identityFromP12(pki, 'rsa2048')),
      () => bodyLines(m.raw),
    );
  }
  for (const f of fromProblemInputs.filter((x) => x.expect !== 'ok')) {
    expectCode(
      f.name,
      f.expect as ErrorCode,
      () => signMessage(f.raw, identityFromP12(pki, 'p256')),
      () => bodyLines(f.raw),
    );
  }
  for (const f of fromProblemInputs.filter((x) => x.expect === 'ok')) {
    test(`${f.name}: signs, and OpenSSL verifies the result`, async () => {
      const signed = await signMessage(f.raw, identityFromP12(pki, 'p256'));
      const res = await verifyWithOpenssl(signed, pki);
      assert.ok(res.ok, res.output);
    });
  }
});

/**
 * Codes raised by the service, not the engine: no_certificate and too_large are tested in
 * test/api-signing.test.ts, the key custody codes in test/relay/key-custody.test.ts and
 * src/custody/*.test.ts.
 */
const SERVICE_CODES: ErrorCode[] = [
  'no_certificate',
  'too_large',
  'custody_auth_failed',
  'custody_key_not_found',
  'custody_key_disabled',
  'custody_key_unusable',
];

test('every identity and message error code of the engine has a test above', () => {
  const wanted = (Object.keys(ERROR_CODES) as ErrorCode[]).filter(
    (c) => ['identity', 'message'].includes(ERROR_CODES[c].category) && !SERVICE_CODES.includes(c),
  );
  assert.deepEqual([...covered].sort(), wanted.sort());
});
