/**
 * Every registered transport can be chosen through the delivery API; its secret field is
 * sealed at rest and redacted on read.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { op } from '../support/relay';

let app: TestApp;
let tenantId: string;
before(async () => {
  app = await startApp();
  tenantId = (await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Providers' } })).json
    .id;
});
after(() => app.close());

const SECRET = 'provider-secret-Zq81xWv3';
const CASES: { transport: string; body: Record<string, unknown>; secretPath: string[] }[] = [
  {
    transport: 'ses',
    body: { region: 'eu-west-1', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET },
    secretPath: ['secretAccessKey'],
  },
  {
    transport: 'mailgun',
    body: { apiKey: SECRET, domain: 'mg.example.com', region: 'eu' },
    secretPath: ['apiKey'],
  },
  { transport: 'sparkpost', body: { apiKey: SECRET, region: 'us' }, secretPath: ['apiKey'] },
  { transport: 'sendgrid', body: { apiKey: SECRET }, secretPath: ['apiKey'] },
  {
    transport: 'postmark',
    body: { serverToken: SECRET, messageStream: 'broadcast' },
    secretPath: ['serverToken'],
  },
];

for (const c of CASES) {
  test(`${c.transport}: stored with its secret sealed and redacted`, async () => {
    const put = await app.request('PUT', `/v1/tenants/${tenantId}/delivery`, {
      ...op,
      body: { transport: c.transport, ...c.body },
    });
    assert.equal(put.status, 200, put.text);
    const got = await app.request('GET', `/v1/tenants/${tenantId}/delivery`, op);
    assert.equal(got.json.transport, c.transport);
    assert.equal(got.json[c.secretPath[0]], '[redacted]');
    assert.doesNotMatch(got.text, new RegExp(SECRET));
    const [row] = await app.db.session.query<{ settings: unknown; sealed_secrets: Buffer }>(
      'SELECT settings, sealed_secrets FROM delivery_settings WHERE tenant_id = $1',
      [tenantId],
    );
    assert.doesNotMatch(JSON.stringify(row.settings), new RegExp(SECRET));
    assert.ok(!Buffer.from(row.sealed_secrets).includes(SECRET));
  });
}

test('the list of transports names every provider', async () => {
  const r = await app.request('PUT', `/v1/tenants/${tenantId}/delivery`, {
    ...op,
    body: { transport: 'carrier-pigeon' },
  });
  assert.equal(r.status, 400);
  for (const t of ['mailgun', 'postmark', 'sendgrid', 'ses', 'smtp', 'sparkpost']) {
    assert.match(r.json.error.message, new RegExp(t));
  }
});
