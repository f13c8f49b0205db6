/**
 * `smime-relay rotate-master-key`: keys stored under the old master key are re-wrapped
 * under the new one, and every identity stays usable; the old key alone no longer opens them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { MasterKeyRing, openPrivateKey } from '../src/secrets/key-vault';
import { deliverySecretsOwner } from '../src/relay/delivery-settings';
import { P12_PASSWORD, createTestPki } from './helpers/pki';
import { ADMIN_TOKEN, startApp, type TestApp } from './support/app';
import { cli, show } from './support/cli';
import { plainToInstance } from 'class-transformer';
import {
  TransitCheckSettings,
  TransitSettingsStore,
  transitSecretsOwner,
} from '../src/transit/transit-settings';

let app: TestApp;
before(async () => {
  app = await startApp();
});
after(() => app.close());

test('re-wraps every stored key under the new master key', async () => {
  const pki = await createTestPki();
  const op = { token: ADMIN_TOKEN };
  const tenant = (await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Rotating' } }))
    .json.id;
  for (const name of ['rsa2048', 'p256'] as const) {
    const pkcs12 = (pki.identities[name].p12 ?? Buffer.alloc(0)).toString('base64');
    const r = await app.request('POST', `/v1/tenants/${tenant}/certificates`, {
      ...op,
      body: { pkcs12, password: P12_PASSWORD },
    });
    assert.equal(r.status, 201, r.text);
  }
  // The upstream password is sealed the same way and must rotate with the keys.
  const d = await app.request('PUT', `/v1/tenants/${tenant}/delivery`, {
    ...op,
    body: {
      transport: 'smtp',
      host: '127.0.0.1',
      port: 2525,
      auth: { user: 'u', pass: 'upstream-pass' },
    },
  });
  assert.equal(d.status, 200, d.text);
  const dkim = await app.request('PUT', `/v1/tenants/${tenant}/dkim`, {
    ...op,
    body: { domain: 'example.com', selector: 's1' },
  });
  assert.equal(dkim.status, 200, dkim.text);
  // The seed mailbox password of transit checks too (stored without the mailbox check).
  await app.nest.get(TransitSettingsStore).save(
    tenant,
    plainToInstance(TransitCheckSettings, {
      to: 'seed@example.net',
      imap: { host: 'imap.example.net', user: 'seed', pass: 'seed-pass' },
      schedule: 'off',
    }),
  );
  const newKey = randomBytes(32);
  const env = {
    DATABASE_URL: app.databaseUrl,
    MASTER_KEY: newKey.toString('base64'),
    MASTER_KEY_PREVIOUS: app.masterKey.toString('base64'),
  };
  const first = await cli(['rotate-master-key'], { env });
  assert.equal(first.code, 0, show(first));
  assert.match(first.stdout.toString(), /re-wrapped 5 key\(s\); 0 already/);
  const second = await cli(['rotate-master-key'], { env });
  assert.match(second.stdout.toString(), /re-wrapped 0 key\(s\); 5 already/);

  const rows = await app.db.session.query<{
    id: string;
    tenant_id: string;
    sealed_private_key: Buffer;
  }>('SELECT id, tenant_id, sealed_private_key FROM certificates');
  for (const row of rows) {
    const owner = { tenantId: row.tenant_id, certificateId: row.id };
    const key = openPrivateKey(row.sealed_private_key, owner, new MasterKeyRing(newKey));
    assert.ok(key.length > 100, 'opens under the new key alone');
    assert.throws(() =>
      openPrivateKey(row.sealed_private_key, owner, new MasterKeyRing(app.masterKey)),
    );
  }
  const [delivery] = await app.db.session.query<{ sealed_secrets: Buffer }>(
    'SELECT sealed_secrets FROM delivery_settings WHERE tenant_id = $1',
    [tenant],
  );
  const secrets = openPrivateKey(
    delivery.sealed_secrets,
    deliverySecretsOwner(tenant),
    new MasterKeyRing(newKey),
  );
  assert.equal(JSON.parse(secrets.toString())['auth.pass'], 'upstream-pass');
  const [transit] = await app.db.session.query<{ sealed_secrets: Buffer }>(
    'SELECT sealed_secrets FROM transit_check_settings WHERE tenant_id = $1',
    [tenant],
  );
  const seed = openPrivateKey(
    transit.sealed_secrets,
    transitSecretsOwner(tenant),
    new MasterKeyRing(newKey),
  );
  assert.equal(JSON.parse(seed.toString())['imap.pass'], 'seed-pass');
  assert.doesNotMatch(
    first.stdout.toString() + first.stderr,
    new RegExp(newKey.toString('base64').slice(0, 16).replace(/[+/]/g, '.')),
  );
});
