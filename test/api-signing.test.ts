/**
 * POST /v1/tenants/:tenantId/sign and POST /v1/verify over HTTP: the identity is chosen by
 * From:, the result verifies with OpenSSL, and tenants stay apart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { P12_PASSWORD, createTestPki, type TestPki } from './helpers/pki';
import { verifyWithOpenssl } from './helpers/verifiers';
import { ADMIN_TOKEN, startApp, type TestApp } from './support/app';
import { UNSIGNED } from './support/reference';

let app: TestApp;
let pki: TestPki;
let tenant: string;
let otherKey: string;
const op = { token: ADMIN_TOKEN };

async function post(
  path: string,
  body: Buffer | string,
  token = ADMIN_TOKEN,
  type = 'message/rfc822',
) {
  const res = await fetch(app.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: Buffer.from(await res.arrayBuffer()),
  };
}

before(async () => {
  [app, pki] = await Promise.all([startApp(), createTestPki()]);
  tenant = (await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Signer' } })).json.id;
  const other = (await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Other' } })).json
    .id;
  otherKey = (await app.request('POST', `/v1/tenants/${other}/api-keys`, { ...op, body: {} })).json
    .key;
  const p12 = (pki.identities.p256.p12 ?? Buffer.alloc(0)).toString('base64');
  const up = await app.request('POST', `/v1/tenants/${tenant}/certificates`, {
    ...op,
    body: { pkcs12: p12, password: P12_PASSWORD },
  });
  assert.equal(up.status, 201, up.text);
});
after(() => app.close());

describe('test signing', () => {
  test('signs with the certificate for From:, detached or opaque, and OpenSSL verifies it', async () => {
    for (const format of ['', '?format=opaque']) {
      const r = await post(`/v1/tenants/${tenant}/sign${format}`, UNSIGNED);
      assert.equal(r.status, 200, r.body.toString());
      assert.match(r.type, /^message\/rfc822/);
      const res = await verifyWithOpenssl(r.body, pki);
      assert.ok(res.ok, res.output);
    }
  });

  test('/metrics counts signatures and uploads in the Prometheus format', async () => {
    const r = await fetch(app.url + '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await r.text();
    assert.match(text, /^smime_relay_signatures_total\{outcome="signed"\} [1-9]/m);
    assert.match(text, /^smime_relay_certificate_uploads_total\{result="stored"\} 1$/m);
    assert.match(text, /^smime_relay_process_cpu_seconds_total /m);
  });

  test('a From: no certificate covers is 422 from_mismatch (as at SMTP intake); bad input is 400', async () => {
    const foreign = Buffer.from(
      UNSIGNED.toString('latin1').replace('news@example.com', 'sales@example.com'),
      'latin1',
    );
    const r = await post(`/v1/tenants/${tenant}/sign`, foreign);
    assert.equal(r.status, 422);
    // The tenant has certificates for other addresses: the same code SMTP intake gives.
    assert.equal(JSON.parse(r.body.toString()).error.code, 'from_mismatch');
    const noFrom = await post(`/v1/tenants/${tenant}/sign`, 'Subject: x\r\n\r\nbody\r\n');
    assert.equal(JSON.parse(noFrom.body.toString()).error.code, 'no_from');
    const wrongType = await post(`/v1/tenants/${tenant}/sign`, UNSIGNED, ADMIN_TOKEN, 'text/plain');
    assert.equal(wrongType.status, 400);
  });

  test('a message over 25 MB is 413 too_large', async () => {
    const big = Buffer.concat([UNSIGNED, Buffer.alloc(26 * 1024 * 1024, 'a')]);
    const r = await post('/v1/verify', big);
    assert.equal(r.status, 413);
    assert.equal(JSON.parse(r.body.toString()).error.code, 'too_large');
  });

  test("another tenant's key cannot sign with this tenant's certificate (404)", async () => {
    const r = await post(`/v1/tenants/${tenant}/sign`, UNSIGNED, otherKey);
    assert.equal(r.status, 404);
  });
});

describe('verification', () => {
  test('reports a valid signature, and a tampered one as digest_mismatch', async () => {
    const signed = (await post(`/v1/tenants/${tenant}/sign`, UNSIGNED)).body;
    const ok = JSON.parse((await post('/v1/verify', signed)).body.toString());
    assert.equal(ok.valid, true);
    assert.equal(ok.from, 'news@example.com');
    assert.equal(ok.chainTrusted, null);
    const text = signed.toString('latin1');
    // One character of the signed text part changes after signing.
    const tampered = Buffer.from(
      text.replace(/(Content-Type: text\/plain[^\r]*\r\n(?:[^\r]+\r\n)*\r\n)(.)/, '$1X'),
      'latin1',
    );
    assert.notDeepEqual(tampered, signed);
    const bad = JSON.parse((await post('/v1/verify', tampered)).body.toString());
    assert.equal(bad.valid, false);
    assert.ok(
      bad.errors.some((e: { code: string }) => e.code === 'digest_mismatch'),
      JSON.stringify(bad.errors),
    );
  });
});
