/**
 * Proves the three verifier wrappers accept good signatures and CAN FAIL (tampered content,
 * unknown root, bad certificates), using OpenSSL as the signer (not the engine in src/).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, generateKey, type IdentityName, type TestPki } from './pki';
import { runOk } from './pki-exec';
import { signWithOpenssl } from './openssl';
import {
  VERIFIERS,
  rejectsIdentity,
  splitSignedMessage,
  supports,
  verifyWith,
  verifyWithAll,
  type AlgorithmSpec,
  type VerifierName,
  type VerifyResult,
} from './verifiers';

const CONTENT = Buffer.from(
  'Content-Type: text/plain; charset=utf-8\r\n\r\nHello newsletter readers!\r\nSecond line.\r\n',
);

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});

function assertAll(results: Record<VerifierName, VerifyResult>, ok: boolean, what: string): void {
  for (const v of VERIFIERS) {
    assert.equal(results[v].ok, ok, `${v} ${what}:\n${results[v].output}`);
  }
}

/** Flips "Hello" into "Jello" in the signed content, inside the base64 body when opaque. */
function tamper(msg: Buffer): Buffer {
  const text = msg.toString('latin1');
  if (text.includes('Hello newsletter')) {
    return Buffer.from(text.replace('Hello newsletter', 'Jello newsletter'), 'latin1');
  }
  const sep = text.indexOf('\r\n\r\n') + 4;
  const der = Buffer.from(text.slice(sep), 'base64');
  const at = der.indexOf('Hello newsletter');
  assert.ok(at > 0, 'signed content not found in opaque message');
  der[at] = 'J'.charCodeAt(0);
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\r\n');
  return Buffer.from(text.slice(0, sep) + b64, 'latin1');
}

const SIGNERS = ['rsa2048', 'p256'] as const;
const SHAPES = [
  { opaque: false, label: 'detached' },
  { opaque: true, label: 'opaque' },
];

describe('verifiers on OpenSSL-signed messages', () => {
  for (const name of SIGNERS) {
    for (const { opaque, label } of SHAPES) {
      test(`${name} ${label}: all verifiers accept, and reject it once tampered`, async () => {
        const id = pki.identities[name];
        const msg = await signWithOpenssl(CONTENT, id, { opaque, certfile: pki.chainPath });
        assertAll(await verifyWithAll(msg, pki), true, 'should accept a good signature');
        const bad = tamper(msg);
        assert.notDeepEqual(bad, msg);
        assertAll(await verifyWithAll(bad, pki), false, 'should reject tampered content');
      });
    }
  }

  describe('unknown root', () => {
    let dir: string;
    let rogue: { certPath: string; keyPath: string; rootPath: string };
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'smime-rogue-'));
      const f = (n: string): string => join(dir, n);
      await Promise.all([generateKey('p256', f('root.key')), generateKey('p256', f('ee.key'))]);
      // prettier-ignore
      await runOk('openssl', [
        'req', '-x509', '-new', '-config', pki.configPath, '-extensions', 'v3_root',
        '-key', f('root.key'), '-subj', '/CN=Rogue Root CA/O=Example Org', '-days', '365',
        '-out', f('root.pem'),
      ]);
      // prettier-ignore
      await runOk('openssl', [
        'req', '-new', '-config', pki.configPath, '-key', f('ee.key'),
        '-subj', '/CN=News Sender RSA-2048/O=Example Org', '-out', f('ee.csr'),
      ]);
      // prettier-ignore
      await runOk('openssl', [
        'x509', '-req', '-in', f('ee.csr'), '-CA', f('root.pem'), '-CAkey', f('root.key'),
        '-days', '365', '-extfile', pki.configPath, '-extensions', 'ee_smime', '-out', f('ee.pem'),
      ]);
      rogue = { certPath: f('ee.pem'), keyPath: f('ee.key'), rootPath: f('root.pem') };
    });
    after(() => rm(dir, { recursive: true, force: true }));

    for (const { opaque, label } of SHAPES) {
      test(`${label}: all verifiers reject a signer chaining to an untrusted root`, async () => {
        // The rogue root travels inside the message: it must still not be trusted.
        const msg = await signWithOpenssl(CONTENT, rogue, { opaque, certfile: rogue.rootPath });
        const results = await verifyWithAll(msg, pki);
        assertAll(results, false, 'should reject an unknown root');
        // cmsutil exits 0 here; the wrapper fails because of the status line.
        assert.match(results.nss.output, /signer0\.status=SigningCertNotTrusted/);
        assert.doesNotMatch(results.gpgsm.output, /TRUST_FULLY/);
      });
    }
  });
});

describe('documented verifier limitations (supports / rejectsIdentity)', () => {
  const cases: (AlgorithmSpec & { id: IdentityName })[] = [
    { id: 'rsa2048', keyType: 'rsa2048', pss: true, pssSaltLength: 'digest' },
    { id: 'rsa2048', keyType: 'rsa2048', pss: true, pssSaltLength: 'max' },
    { id: 'rsa3072', keyType: 'rsa3072', digest: 'sha512' },
    { id: 'p384', keyType: 'p384', digest: 'sha384' },
    { id: 'p384', keyType: 'p384', digest: 'sha256' },
    { id: 'p256', keyType: 'p256', digest: 'sha1' },
  ];
  for (const c of cases) {
    const label = `${c.keyType} ${c.digest ?? 'sha256'}${c.pss ? ` pss salt=${c.pssSaltLength}` : ''}`;
    test(`${label}: each verifier behaves as supports() says`, async () => {
      const msg = await signWithOpenssl(CONTENT, pki.identities[c.id], {
        certfile: pki.chainPath,
        digest: c.digest,
        pss: c.pss,
        pssSaltLength: c.pssSaltLength,
      });
      for (const v of VERIFIERS) {
        const res = await verifyWith(v, msg, pki);
        const s = supports(v, c);
        assert.equal(res.ok, s.supported, `${v} (${JSON.stringify(s)}):\n${res.output}`);
      }
    });
  }

  const bad: IdentityName[] = [
    'expired',
    'notYetValid',
    'serverAuthOnly',
    'noDigitalSignature',
    'rsa1024',
  ];
  for (const name of bad) {
    test(`${name}: each verifier rejects unless rejectsIdentity() says otherwise`, async () => {
      const msg = await signWithOpenssl(CONTENT, pki.identities[name], {
        certfile: pki.chainPath,
      });
      for (const v of VERIFIERS) {
        const res = await verifyWith(v, msg, pki);
        const r = rejectsIdentity(v, name);
        assert.equal(res.ok, !r.rejects, `${v} (${JSON.stringify(r)}):\n${res.output}`);
      }
    });
  }

  test('only openssl notices a message without the intermediate', async () => {
    const msg = await signWithOpenssl(CONTENT, pki.identities.rsa2048, {});
    const results = await verifyWithAll(msg, pki);
    assert.equal(results.openssl.ok, false, results.openssl.output);
    assert.equal(results.nss.ok, true, results.nss.output);
    assert.equal(results.gpgsm.ok, true, results.gpgsm.output);
  });
});

describe('splitSignedMessage', () => {
  const sig = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]);
  const b64 = sig.toString('base64');
  test('exact first-part bytes: preamble, transport padding, look-alike boundary', () => {
    const msg = Buffer.from(
      'Content-Type: multipart/signed;\r\n protocol="application/pkcs7-signature";\r\n' +
        ' boundary=b1\r\n\r\npreamble\r\n--b1  \r\nA: b\r\n\r\nline\r\n--b1x not a delimiter\r\n' +
        '\r\n--b1\r\nContent-Type: application/pkcs7-signature\r\n' +
        `Content-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b1--\r\nepilogue\r\n`,
      'latin1',
    );
    const parts = splitSignedMessage(msg);
    assert.equal(parts.kind, 'detached');
    if (parts.kind !== 'detached') return;
    assert.equal(parts.content.toString('latin1'), 'A: b\r\n\r\nline\r\n--b1x not a delimiter\r\n');
    assert.deepEqual(parts.signature, sig);
  });
  test('opaque and malformed', () => {
    const opaque = Buffer.from(
      'Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n' +
        `Content-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`,
    );
    assert.deepEqual(splitSignedMessage(opaque), { kind: 'opaque', der: sig });
    assert.throws(() => splitSignedMessage(Buffer.from('Content-Type: text/plain\r\n\r\nhi')));
  });
});
