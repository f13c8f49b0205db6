/**
 * /v1/tenants and API keys over real HTTP against PostgreSQL: authentication, validation,
 * and tenant isolation (another tenant's resources are 404, never 403).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_TOKEN, startApp, type TestApp } from './support/app';

let app: TestApp;
before(async () => {
  app = await startApp();
});
after(() => app.close());

const op = { token: ADMIN_TOKEN };

describe('authentication', () => {
  test('no token, a wrong token or a revoked-looking key get 401 with an error code', async () => {
    for (const token of [undefined, 'wrong-token', ADMIN_TOKEN + 'x', 'srk_not-a-real-key']) {
      const r = await app.request('GET', '/v1/tenants', { token });
      assert.equal(r.status, 401, `token ${token}`);
      assert.equal(r.json?.error?.code, 'unauthorized');
    }
  });
});

describe('tenants', () => {
  test('create, read, update, list and delete as the operator', async () => {
    const created = await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Brand A' } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.name, 'Brand A');
    assert.equal(created.json.signingPolicy, 'require', 'the default never sends unsigned');
    const id = created.json.id;
    assert.equal((await app.request('GET', `/v1/tenants/${id}`, op)).json.name, 'Brand A');
    const patched = await app.request('PATCH', `/v1/tenants/${id}`, {
      ...op,
      body: { signingPolicy: 'prefer' },
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.signingPolicy, 'prefer');
    const list = await app.request('GET', '/v1/tenants', op);
    assert.ok(list.json.some((t: { id: string }) => t.id === id));
    assert.equal((await app.request('DELETE', `/v1/tenants/${id}`, op)).status, 204);
    const gone = await app.request('GET', `/v1/tenants/${id}`, op);
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.code, 'not_found');
  });

  test('bad input gets 400 invalid_request naming the field', async () => {
    for (const body of [
      {},
      { name: '' },
      { name: 'x', signingPolicy: 'sometimes' },
      { name: 'x', extra: 1 },
    ]) {
      const r = await app.request('POST', '/v1/tenants', { ...op, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.code, 'invalid_request');
      assert.match(r.json.error.message, /name|signingPolicy|extra/);
    }
    const notJson = await app.request('POST', '/v1/tenants', { ...op, raw: '{"name":' });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.error.code, 'invalid_request');
    assert.equal((await app.request('GET', '/v1/tenants/not-a-uuid', op)).status, 404);
  });
});

describe('API keys and tenant isolation', () => {
  let a: string;
  let b: string;
  let keyA: string;
  before(async () => {
    a = (await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Tenant A' } })).json.id;
    b = (await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Tenant B' } })).json.id;
    const created = await app.request('POST', `/v1/tenants/${a}/api-keys`, {
      ...op,
      body: { label: 'ci' },
    });
    assert.equal(created.status, 201, created.text);
    keyA = created.json.key;
    assert.match(keyA, /^srk_[A-Za-z0-9_-]{43}$/);
  });

  test('the key is shown once: listings carry its prefix only, and the database its hash only', async () => {
    const list = await app.request('GET', `/v1/tenants/${a}/api-keys`, op);
    assert.equal(list.status, 200);
    assert.equal(list.json.length, 1);
    assert.equal(list.json[0].key, undefined);
    assert.ok(keyA.startsWith(list.json[0].prefix));
    assert.ok(!list.text.includes(keyA));
    const rows = await app.db.session.query('SELECT * FROM api_keys');
    assert.ok(!JSON.stringify(rows).includes(keyA.slice(4)), 'no key material stored');
  });

  test('a tenant key sees its own tenant and nothing else (404, not 403)', async () => {
    const t = { token: keyA };
    assert.equal((await app.request('GET', `/v1/tenants/${a}`, t)).status, 200);
    const list = await app.request('GET', '/v1/tenants', t);
    assert.deepEqual(
      list.json.map((x: { id: string }) => x.id),
      [a],
    );
    for (const [method, path] of [
      ['GET', `/v1/tenants/${b}`],
      ['PATCH', `/v1/tenants/${b}`],
      ['DELETE', `/v1/tenants/${b}`],
      ['GET', `/v1/tenants/${b}/api-keys`],
      ['POST', `/v1/tenants/${b}/api-keys`],
    ]) {
      const r = await app.request(method, path, { ...t, body: method === 'GET' ? undefined : {} });
      assert.equal(r.status, 404, `${method} ${path}`);
    }
    assert.equal((await app.request('GET', `/v1/tenants/${b}`, op)).status, 200, 'B still exists');
  });

  test('operator-only actions give a tenant key 403 on its own tenant', async () => {
    const t = { token: keyA };
    assert.equal(
      (await app.request('POST', '/v1/tenants', { ...t, body: { name: 'x' } })).status,
      403,
    );
    assert.equal((await app.request('DELETE', `/v1/tenants/${a}`, t)).status, 403);
    assert.equal(
      (await app.request('POST', `/v1/tenants/${a}/api-keys`, { ...t, body: {} })).status,
      403,
    );
  });

  test('a revoked key stops working at once; revoking twice is 404', async () => {
    const created = await app.request('POST', `/v1/tenants/${a}/api-keys`, { ...op, body: {} });
    const key = created.json.key;
    assert.equal((await app.request('GET', `/v1/tenants/${a}`, { token: key })).status, 200);
    assert.equal(
      (await app.request('DELETE', `/v1/tenants/${a}/api-keys/${created.json.id}`, op)).status,
      204,
    );
    assert.equal((await app.request('GET', `/v1/tenants/${a}`, { token: key })).status, 401);
    assert.equal(
      (await app.request('DELETE', `/v1/tenants/${a}/api-keys/${created.json.id}`, op)).status,
      404,
    );
  });

  test('neither the admin token nor any API key appears in the logs', () => {
    const all = app.logs.join('\n');
    assert.ok(!all.includes(ADMIN_TOKEN));
    assert.ok(!all.includes(keyA));
  });
});
