/**
 * Certificate upload and storage over HTTP against PostgreSQL: every accepted format, each
 * refusal code from a real bad upload, isolation between tenants, and keys at rest.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CertificateStore } from '../src/certificates/certificate-store';
import { signMessage } from '../src';
import { KEY_PASSWORD, P12_PASSWORD, createTestPki, type TestPki } from './helpers/pki';
import { runOk, withTempDir } from './helpers/pki-exec';
import { verifyWithOpenssl } from './helpers/verifiers';
import { ADMIN_TOKEN, startApp, type TestApp } from './support/app';
import { UNSIGNED } from './support/reference';

let app: TestApp;
let pki: TestPki;
let tenant: string;
let other: string;
const op = { token: ADMIN_TOKEN };
const path = () => `/v1/tenants/${tenant}/certificates`;
const p12 = (name: 'rsa2048' | 'p256') =>
  (pki.identities[name].p12 ?? Buffer.alloc(0)).toString('base64');

before(async () => {
  [app, pki] = await Promise.all([startApp(), createTestPki()]);
  tenant = (await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Certs' } })).json.id;
  other = (await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Other' } })).json.id;
});
after(() => app.close());

describe('uploading certificates', () => {
  test('PKCS#12 as base64 with its password: 201 with metadata, no key material', async () => {
    const r = await app.request('POST', path(), {
      ...op,
      body: { pkcs12: p12('rsa2048'), password: P12_PASSWORD },
    });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json.emailAddresses, pki.identities.rsa2048.emails);
    assert.equal(r.json.keyAlgorithm, 'RSA-2048');
    assert.equal(r.json.status, 'active');
    assert.match(r.json.fingerprintSha256, /^[0-9a-f]{64}$/);
    assert.equal(r.json.custody, 'sealed');
    // Nothing of the key: the custody's name is the only "sealed" in the answer.
    assert.doesNotMatch(r.text.replace('"custody":"sealed"', ''), /PRIVATE KEY|privateKey|sealed/);
  });

  test('PEM certificate, encrypted key and chain', async () => {
    const id = pki.identities.p256;
    const body = {
      certificate: id.certPem,
      privateKey: id.encryptedKeyPem,
      chain: pki.intermediatePem,
      password: KEY_PASSWORD,
    };
    const r = await app.request('POST', path(), { ...op, body });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.keyAlgorithm, 'P-256');
  });

  test('the same certificate twice: 409 already_exists', async () => {
    const r = await app.request('POST', path(), {
      ...op,
      body: { pkcs12: p12('rsa2048'), password: P12_PASSWORD },
    });
    assert.equal(r.status, 409);
    assert.equal(r.json.error.code, 'already_exists');
  });

  test('each refusal from a real bad upload is 422 with the engine code', async () => {
    const pem = (name: keyof TestPki['identities']) => ({
      certificate: pki.identities[name].certPem,
      privateKey: pki.identities[name].keyPem,
    });
    const cases: [string, object][] = [
      ['bad_password', { pkcs12: p12('rsa2048'), password: 'not-the-password' }],
      ['certificate_expired', pem('expired')],
      ['certificate_not_yet_valid', pem('notYetValid')],
      ['certificate_wrong_purpose', pem('serverAuthOnly')],
      ['certificate_wrong_purpose', pem('noDigitalSignature')],
      ['weak_key', pem('rsa1024')],
      ['key_mismatch', pem('mismatchedKey')],
      [
        'bad_certificate',
        { pkcs12: Buffer.from('not a pkcs12 file').toString('base64'), password: 'x' },
      ],
      ['unsupported_key', await ed25519Upload()],
    ];
    for (const [code, body] of cases) {
      const r = await app.request('POST', path(), { ...op, body });
      assert.equal(r.status, 422, `${code}: ${r.text}`);
      assert.equal(r.json.error.code, code);
      assert.doesNotMatch(r.text, /not-the-password|PRIVATE KEY/);
    }
    const huge = await app.request('POST', path(), {
      ...op,
      body: { certificate: 'x'.repeat(2_000_000) },
    });
    assert.equal(huge.status, 413, huge.text);
    assert.equal(huge.json.error.code, 'too_large');
    const neither = await app.request('POST', path(), { ...op, body: { password: 'x' } });
    assert.equal(neither.status, 400);
    assert.equal(neither.json.error.code, 'invalid_request');
  });
});

async function ed25519Upload(): Promise<object> {
  return withTempDir('smime-ed25519-', async (dir) => {
    const key = join(dir, 'ed.key');
    const cert = join(dir, 'ed.pem');
    await runOk('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key]);
    // prettier-ignore
    await runOk('openssl', ['req', '-x509', '-new', '-key', key, '-subj', '/CN=ed', '-days', '30',
      '-addext', 'subjectAltName=email:news@example.com', '-out', cert]);
    return { certificate: await readFile(cert, 'utf8'), privateKey: await readFile(key, 'utf8') };
  });
}

describe('stored certificates', () => {
  test('list and read return metadata only; another tenant sees 404', async () => {
    const list = await app.request('GET', path(), op);
    assert.equal(list.status, 200);
    assert.equal(list.json.length, 2);
    const one = await app.request('GET', `${path()}/${list.json[0].id}`, op);
    assert.deepEqual(one.json, list.json[0]);
    const key = (await app.request('POST', `/v1/tenants/${other}/api-keys`, { ...op, body: {} }))
      .json.key;
    for (const p of [path(), `${path()}/${list.json[0].id}`]) {
      assert.equal((await app.request('GET', p, { token: key })).status, 404, p);
    }
    const upload = await app.request('POST', path(), {
      token: key,
      body: { pkcs12: p12('p256'), password: P12_PASSWORD },
    });
    assert.equal(upload.status, 404);
  });

  test('private keys at rest are sealed: no PEM, no PKCS#8 bytes in any row', async () => {
    const rows = await app.db.session.query<Record<string, unknown>>('SELECT * FROM certificates');
    const dump = rows
      .map((r) =>
        Object.values(r)
          .map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v)))
          .join('|'),
      )
      .join('\n');
    assert.doesNotMatch(dump, /PRIVATE KEY/);
    for (const name of ['rsa2048', 'p256'] as const) {
      // The private scalar (EC) or exponent (RSA) must appear nowhere.
      const jwk = createPrivateKey(pki.identities[name].keyPem).export({ format: 'jwk' });
      const secret = Buffer.from(jwk.d ?? '', 'base64url');
      assert.ok(secret.length >= 32);
      assert.ok(!dump.includes(secret.subarray(0, 24).toString('latin1')), name);
    }
  });

  test('an identity is opened for its address, signs, and is gone once removed', async () => {
    const store = app.nest.get(CertificateStore);
    const identity = await store.identityFor(tenant, 'NEWS@example.com');
    assert.ok(identity, 'a certificate covers news@example.com');
    const res = await verifyWithOpenssl(await signMessage(UNSIGNED, identity), pki);
    assert.ok(res.ok, res.output);
    assert.equal(await store.identityFor(tenant, 'nobody@example.com'), undefined);
    assert.equal(
      await store.identityFor(other, 'news@example.com'),
      undefined,
      'other tenants do not share',
    );
    for (const c of (await app.request('GET', path(), op)).json) {
      assert.equal((await app.request('DELETE', `${path()}/${c.id}`, op)).status, 204);
    }
    assert.equal(await store.identityFor(tenant, 'news@example.com'), undefined);
    const rows = await app.db.session.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM certificates WHERE status = 'removed' AND length(sealed_private_key) = 0",
    );
    assert.equal(rows[0].n, 2, 'removed certificates keep no key');
    const again = await app.request('POST', path(), {
      ...op,
      body: { pkcs12: p12('rsa2048'), password: P12_PASSWORD },
    });
    assert.equal(again.status, 201, 're-uploading a removed certificate puts it back');
  });
});

describe('multipart upload', () => {
  test('a .p12 file with its password field, and a .pem holding certificate and key', async () => {
    const t = (await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Multipart' } }))
      .json.id;
    const send = async (form: FormData) => {
      const res = await fetch(`${app.url}/v1/tenants/${t}/certificates`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        body: form,
      });
      return { status: res.status, json: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const p12Form = new FormData();
    p12Form.append(
      'file',
      new Blob([new Uint8Array(pki.identities.rsa2048.p12 ?? Buffer.alloc(0))]),
      'news.p12',
    );
    p12Form.append('password', P12_PASSWORD);
    const a = await send(p12Form);
    assert.equal(a.status, 201, JSON.stringify(a.json));
    assert.equal(a.json.keyAlgorithm, 'RSA-2048');
    const pemForm = new FormData();
    const pem = pki.identities.p256.certPem + pki.identities.p256.keyPem;
    pemForm.append('file', new Blob([pem]), 'news.pem');
    pemForm.append('chain', pki.intermediatePem);
    const b = await send(pemForm);
    assert.equal(b.status, 201, JSON.stringify(b.json));
    assert.equal(b.json.keyAlgorithm, 'P-256');
    const wrong = new FormData();
    wrong.append(
      'file',
      new Blob([new Uint8Array(pki.identities.p256.p12 ?? Buffer.alloc(0))]),
      'x.p12',
    );
    wrong.append('password', 'wrong');
    const c = await send(wrong);
    assert.equal(c.status, 422);
    assert.equal(c.json.error.code, 'bad_password');
  });
});
