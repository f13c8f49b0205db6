/**
 * Input crafted to slip past the checks: extra unsigned parts, content-type confusion,
 * re-encoding that could forge a delimiter, PKCS#12 files that would keep the process busy,
 * and certificates our DER reader cannot read. Each must be refused or handled with a
 * clear error code, never accepted as valid.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { createTestPki, type TestPki } from './helpers/pki';
import { runOk, withTempDir } from './helpers/pki-exec';
import { verifyWithOpenssl } from './helpers/verifiers';
import { assertContentPreserved } from './helpers/content';
import { assertRelayError, identityFromP12, replaceOnce } from './support/engine';
import { OUTER, UNSIGNED, codes } from './support/reference';
import { loadSigningIdentity, signMessage, verifyMessage, type SigningIdentity } from '../src';

let pki: TestPki;
let id: SigningIdentity;
const anchors = () => ({ trustAnchors: [pki.rootPem] });

before(async () => {
  pki = await createTestPki();
  id = identityFromP12(pki, 'rsa2048');
});

describe('verifyMessage refuses multipart/signed that is not plain S/MIME', () => {
  const boundaryOf = (msg: Buffer): string =>
    /boundary="([^"]+)"/.exec(msg.toString('latin1'))?.[1] ?? assert.fail('no boundary');

  test('an extra unsigned part after the signature', async () => {
    const signed = await signMessage(UNSIGNED, id);
    const b = boundaryOf(signed);
    const extra = replaceOnce(
      signed,
      `--${b}--`,
      `--${b}\r\nContent-Type: text/html\r\n\r\n<p>Pay to IBAN XX00</p>\r\n--${b}--`,
    );
    assert.equal((await verifyMessage(signed, anchors())).valid, true, 'the original is valid');
    const r = await verifyMessage(extra, anchors());
    assert.equal(r.valid, false);
    assert.deepEqual(codes(r), ['bad_signature_format']);
  });

  test('another protocol, or a signature part of another type', async () => {
    const signed = await signMessage(UNSIGNED, id);
    for (const forged of [
      replaceOnce(
        signed,
        'protocol="application/pkcs7-signature"',
        'protocol="application/pgp-signature"',
      ),
      replaceOnce(
        signed,
        'Content-Type: application/pkcs7-signature; name=smime.p7s',
        'Content-Type: text/plain',
      ),
    ]) {
      const r = await verifyMessage(forged, anchors());
      assert.equal(r.valid, false);
      assert.deepEqual(codes(r), ['bad_signature_format']);
    }
  });

  test('signed content whose type is not id-data (content-type confusion)', async () => {
    await withTempDir('smime-ctype-', async (dir) => {
      await writeFile(join(dir, 'in.eml'), UNSIGNED.subarray(OUTER.length));
      const ee = pki.identities.rsa2048;
      // prettier-ignore
      await runOk('openssl', [
        'cms', '-sign', '-nodetach', '-binary', '-econtent_type', '1.2.840.113549.1.9.16.1.2',
        '-signer', ee.certPath, '-inkey', ee.keyPath, '-certfile', pki.chainPath,
        '-in', join(dir, 'in.eml'), '-outform', 'SMIME', '-out', join(dir, 'out.eml'),
      ]);
      const out = (await readFile(join(dir, 'out.eml'), 'latin1')).replace(/\r?\n/g, '\r\n');
      const r = await verifyMessage(Buffer.from(OUTER + out, 'latin1'), anchors());
      assert.equal(r.valid, false);
      assert.ok(codes(r).includes('bad_signature_format'), JSON.stringify(r.errors));
    });
  });
});

describe('re-encoding never forges a multipart delimiter', () => {
  test('an 8-bit line that would wrap to "--boundary" keeps the part intact', async () => {
    const line = 'ä' + 'a'.repeat(69) + '--b'; // encodes to 75 characters, then "--b"
    const raw = Buffer.from(
      `${OUTER}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n` +
        `--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n` +
        `${line}\r\n--b\r\nContent-Type: text/plain\r\n\r\nsecond part\r\n--b--\r\n`,
      'utf8',
    );
    const signed = await signMessage(raw, id);
    const res = await verifyWithOpenssl(signed, pki);
    assert.ok(res.ok, res.output);
    await assertContentPreserved(raw, signed);
  });
});

describe('PKCS#12 and certificates that are hostile or odd', () => {
  test('a legacy PKCS#12 exported with an empty password loads without one', async () => {
    await withTempDir('smime-p12-empty-', async (dir) => {
      const ee = pki.identities.rsa2048;
      // prettier-ignore
      await runOk('openssl', [
        'pkcs12', '-export', '-legacy', '-in', ee.certPath, '-inkey', ee.keyPath,
        '-certfile', pki.chainPath, '-passout', 'pass:', '-out', join(dir, 'empty.p12'),
      ]);
      const p12 = await readFile(join(dir, 'empty.p12'));
      for (const password of [undefined, '']) {
        const identity = loadSigningIdentity({ pkcs12: p12, password });
        assert.deepEqual(identity.emailAddresses, ee.emails);
      }
    });
  });

  test('a PKCS#12 asking for more than 1,000,000 iterations is refused', async () => {
    await withTempDir('smime-p12-iter-', async (dir) => {
      const ee = pki.identities.p256;
      // prettier-ignore
      await runOk('openssl', [
        'pkcs12', '-export', '-in', ee.certPath, '-inkey', ee.keyPath, '-iter', '1500000',
        '-passout', 'pass:x', '-out', join(dir, 'slow.p12'),
      ]);
      const p12 = await readFile(join(dir, 'slow.p12'));
      const e = await assertRelayError(
        () => loadSigningIdentity({ pkcs12: p12, password: 'x' }),
        'bad_certificate',
      );
      assert.match(e.message, /iterations/);
    });
  });

  test('a certificate with an unreadable validity time is bad_certificate', async () => {
    const der = Buffer.from(
      pki.identities.rsa2048.certPem.replace(/-----[^-]+-----|\s/g, ''),
      'base64',
    );
    const at = der.indexOf(Buffer.from([0x17, 0x0d])); // the first UTCTime (notBefore)
    assert.ok(at > 0);
    der[at + 2 + 6] = 0x48; // an hour digit becomes "H"
    await assertRelayError(
      () => loadSigningIdentity({ certificate: der, privateKey: pki.identities.rsa2048.keyPem }),
      'bad_certificate',
    );
  });
});
