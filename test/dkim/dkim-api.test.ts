import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { createTestPki, P12_PASSWORD } from '../helpers/pki';
import { op } from '../support/relay';

let app: TestApp;

before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

async function newTenant(withCertificate = false): Promise<string> {
  const r = await app.request('POST', '/v1/tenants', { ...op, body: { name: 'DKIM test' } });
  assert.equal(r.status, 201, r.text);
  const id = r.json.id as string;
  if (withCertificate) {
    const pki = await createTestPki();
    const c = await app.request('POST', `/v1/tenants/${id}/certificates`, {
      ...op,
      body: { pkcs12: pki.identities.rsa2048.p12!.toString('base64'), password: P12_PASSWORD },
    });
    assert.equal(c.status, 201, c.text);
  }
  return id;
}

const dkimOf = (tenantId: string) => `/v1/tenants/${tenantId}/dkim`;
const put = (tenantId: string, body: unknown, token = op.token) =>
  app.request('PUT', dkimOf(tenantId), { token, body });

/** The p= value of a DNS record value. */
const pOf = (value: string) => /(?:^|;\s*)p=([A-Za-z0-9+/=]+)/.exec(value)?.[1] ?? '';

describe('DKIM key API', () => {
  test('PUT generates an RSA-2048 key and returns the TXT record to publish', async () => {
    const tenantId = await newTenant(true);
    const r = await put(tenantId, { domain: 'Example.com', selector: 's1' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.domain, 'example.com');
    assert.equal(r.json.selector, 's1');
    assert.equal(r.json.algorithm, 'rsa-sha256');
    assert.equal(r.json.dnsRecord.name, 's1._domainkey.example.com');
    assert.equal(r.json.dnsRecord.type, 'TXT');
    assert.match(r.json.dnsRecord.value, /^v=DKIM1; k=rsa; p=/);
    const key = createPublicKey({
      key: Buffer.from(pOf(r.json.dnsRecord.value), 'base64'),
      format: 'der',
      type: 'spki',
    });
    assert.equal(key.asymmetricKeyType, 'rsa');
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
  });

  test('PUT with keyType ed25519 generates an Ed25519 key (p= is the raw 32 bytes)', async () => {
    const tenantId = await newTenant(true);
    const r = await put(tenantId, { domain: 'example.com', selector: 'ed', keyType: 'ed25519' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.algorithm, 'ed25519-sha256');
    assert.match(r.json.dnsRecord.value, /^v=DKIM1; k=ed25519; p=/);
    assert.equal(Buffer.from(pOf(r.json.dnsRecord.value), 'base64').length, 32);
  });

  test('an imported PEM key is used as is; GET never shows a private key', async () => {
    const tenantId = await newTenant();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const r = await put(tenantId, { domain: 'example.com', selector: 'imported', privateKey: pem });
    assert.equal(r.status, 200, r.text);
    const expected = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    assert.equal(pOf(r.json.dnsRecord.value), expected);
    const shown = await app.request('GET', dkimOf(tenantId), op);
    assert.equal(shown.status, 200, shown.text);
    assert.deepEqual(shown.json, r.json);
    for (const text of [r.text, shown.text]) {
      assert.doesNotMatch(text, /PRIVATE KEY|privateKey/);
    }
  });

  test('the stored row holds the private key sealed, never in plain', async () => {
    const tenantId = await newTenant();
    const { privateKey } = generateKeyPairSync('ed25519');
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const r = await put(tenantId, { domain: 'example.com', selector: 's2', privateKey: pem });
    assert.equal(r.status, 200, r.text);
    const [row] = await app.db.session.query<{ sealed_private_key: Buffer }>(
      'SELECT sealed_private_key FROM dkim_keys WHERE tenant_id = $1',
      [tenantId],
    );
    const sealed = Buffer.from(row.sealed_private_key);
    assert.ok(sealed.length > 0);
    assert.equal(sealed.includes(Buffer.from('PRIVATE KEY')), false);
    assert.equal(sealed.includes(der.subarray(-32)), false, 'the raw Ed25519 seed is stored');
  });

  test("a domain that does not align with the certificates' addresses is refused with 400", async () => {
    const tenantId = await newTenant(true);
    const r = await put(tenantId, { domain: 'other.org', selector: 's1' });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /other\.org/);
    assert.match(r.text, /example\.com/);
    assert.equal((await app.request('GET', dkimOf(tenantId), op)).status, 404);
    // A parent or subdomain of the certificates' domain aligns.
    assert.equal((await put(tenantId, { domain: 'mail.example.com', selector: 's1' })).status, 200);
  });

  test('bad fields are refused with 400', async () => {
    const tenantId = await newTenant();
    const cases: [object, RegExp][] = [
      [{ selector: 's1' }, /domain/],
      [{ domain: 'example.com' }, /selector/],
      [{ domain: 'example.com', selector: 's1', keyType: 'dsa' }, /keyType/],
      [{ domain: 'example.com', selector: 's1', privateKey: 'not a key' }, /privateKey/],
      [
        {
          domain: 'example.com',
          selector: 's1',
          privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 })
            .privateKey.export({ type: 'pkcs8', format: 'pem' })
            .toString(),
        },
        /2048/,
      ],
    ];
    for (const [body, message] of cases) {
      const r = await put(tenantId, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.match(r.text, message);
    }
    assert.equal((await app.request('GET', dkimOf(tenantId), op)).status, 404);
  });

  test('DELETE removes the key', async () => {
    const tenantId = await newTenant();
    assert.equal((await put(tenantId, { domain: 'example.com', selector: 's1' })).status, 200);
    assert.equal((await app.request('DELETE', dkimOf(tenantId), op)).status, 204);
    assert.equal((await app.request('GET', dkimOf(tenantId), op)).status, 404);
    assert.equal((await app.request('DELETE', dkimOf(tenantId), op)).status, 404);
  });

  test("a tenant key cannot see, set or delete another tenant's DKIM key (404)", async () => {
    const owner = await newTenant();
    const stranger = await newTenant();
    const set = await put(owner, { domain: 'example.com', selector: 's1' });
    assert.equal(set.status, 200, set.text);
    const key = await app.request('POST', `/v1/tenants/${stranger}/api-keys`, { ...op, body: {} });
    assert.equal(key.status, 201, key.text);
    const token = key.json.key as string;
    assert.equal((await app.request('GET', dkimOf(owner), { token })).status, 404);
    assert.equal((await put(owner, { domain: 'evil.example', selector: 'x' }, token)).status, 404);
    assert.equal((await app.request('DELETE', dkimOf(owner), { token })).status, 404);
    assert.deepEqual((await app.request('GET', dkimOf(owner), op)).json, set.json);
    // Its own key it may set.
    assert.equal(
      (await put(stranger, { domain: 'example.org', selector: 's1' }, token)).status,
      200,
    );
  });
});
