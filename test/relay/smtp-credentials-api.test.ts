/**
 * /v1/tenants/:tenantId/smtp-credentials: the password is shown once, stored only as a
 * hash, never logged; a tenant key manages its own tenant's credentials and nothing else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTransport } from 'nodemailer';
import { startApp, type TestApp } from '../support/app';
import { op } from '../support/relay';

let app: TestApp;
let tenantA: string;
let tenantB: string;
let keyA: { token: string };
/** Every password the API handed out in this file, to look for in the logs at the end. */
const passwords: string[] = [];

const path = (tenantId: string) => `/v1/tenants/${tenantId}/smtp-credentials`;

async function createTenant(name: string): Promise<string> {
  const r = await app.request('POST', '/v1/tenants', { ...op, body: { name } });
  assert.equal(r.status, 201, r.text);
  return r.json.id;
}

async function createCredential(
  tenantId: string,
  auth: { token: string },
  label?: string,
): Promise<{ id: string; username: string; password: string }> {
  const r = await app.request('POST', path(tenantId), { ...auth, body: label ? { label } : {} });
  assert.equal(r.status, 201, r.text);
  passwords.push(r.json.password);
  return r.json;
}

/** Whether the relay's SMTP listener accepts this username and password (EHLO + AUTH). */
async function smtpAuthWorks(username: string, password: string): Promise<boolean> {
  const client = createTransport({
    host: '127.0.0.1',
    port: app.smtpPort!,
    ignoreTLS: true,
    auth: { user: username, pass: password },
  });
  try {
    return await client.verify();
  } catch (e) {
    assert.equal((e as { responseCode?: number }).responseCode, 535, String(e));
    return false;
  } finally {
    client.close();
  }
}

before(async () => {
  app = await startApp();
  tenantA = await createTenant('Tenant A');
  tenantB = await createTenant('Tenant B');
  const k = await app.request('POST', `/v1/tenants/${tenantA}/api-keys`, { ...op, body: {} });
  assert.equal(k.status, 201, k.text);
  keyA = { token: k.json.key };
});
after(async () => {
  await app?.close();
});

describe('SMTP credentials API', () => {
  test('create answers 201 with id, username and the password, which logs in over SMTP', async () => {
    const r = await app.request('POST', path(tenantA), { ...op, body: { label: 'listmonk' } });
    assert.equal(r.status, 201, r.text);
    passwords.push(r.json.password);
    assert.match(r.json.id, /^[0-9a-f-]{36}$/);
    assert.match(r.json.username, /^srs_/);
    assert.equal(typeof r.json.password, 'string');
    assert.ok(r.json.password.length >= 32, 'a long random password');
    assert.equal(r.json.label, 'listmonk');
    assert.equal(r.json.revokedAt, null);
    assert.equal(await smtpAuthWorks(r.json.username, r.json.password), true);
  });

  test('the list never shows a password or its hash', async () => {
    const created = await createCredential(tenantA, op, 'listed');
    const list = await app.request('GET', path(tenantA), op);
    assert.equal(list.status, 200);
    const entry = list.json.find((c: { id: string }) => c.id === created.id);
    assert.deepEqual(Object.keys(entry).sort(), [
      'createdAt',
      'id',
      'label',
      'revokedAt',
      'username',
    ]);
    for (const p of passwords) assert.ok(!list.text.includes(p), 'a password in the list');
    const [row] = await app.db.session.query<{ password_hash: Buffer }>(
      'SELECT password_hash FROM smtp_credentials WHERE id = $1',
      [created.id],
    );
    const hash = Buffer.from(row.password_hash);
    assert.ok(!list.text.includes(hash.toString('hex')), 'the hash (hex) in the list');
    assert.ok(!list.text.includes(hash.toString('base64')), 'the hash (base64) in the list');
  });

  test('the database holds a hash, not the password', async () => {
    const created = await createCredential(tenantA, op);
    const [row] = await app.db.session.query<{ password_hash: Buffer }>(
      'SELECT password_hash FROM smtp_credentials WHERE id = $1',
      [created.id],
    );
    const stored = Buffer.from(row.password_hash);
    assert.ok(!stored.equals(Buffer.from(created.password)), 'the password itself is stored');
    assert.ok(!stored.toString('latin1').includes(created.password));
    const everything = JSON.stringify(await app.db.session.query('SELECT * FROM smtp_credentials'));
    assert.ok(!everything.includes(created.password), 'the password somewhere in the table');
  });

  test('a tenant key manages its own tenant’s credentials', async () => {
    const own = await createCredential(tenantA, keyA, 'made by the tenant');
    const list = await app.request('GET', path(tenantA), keyA);
    assert.equal(list.status, 200);
    assert.ok(list.json.some((c: { id: string }) => c.id === own.id));
    assert.equal((await app.request('DELETE', `${path(tenantA)}/${own.id}`, keyA)).status, 204);
  });

  test('a tenant key gets 404 for another tenant’s credentials, which stay intact', async () => {
    const ofB = await createCredential(tenantB, op);
    const asA = [
      ['POST', path(tenantB)],
      ['GET', path(tenantB)],
      ['DELETE', `${path(tenantB)}/${ofB.id}`],
      // B's credential under A's own path: the id alone grants nothing.
      ['DELETE', `${path(tenantA)}/${ofB.id}`],
    ];
    for (const [method, p] of asA) {
      const r = await app.request(method, p, { ...keyA, body: method === 'POST' ? {} : undefined });
      assert.equal(r.status, 404, `${method} ${p}: ${r.text}`);
    }
    const listB = await app.request('GET', path(tenantB), op);
    assert.deepEqual(
      listB.json.map((c: { id: string; revokedAt: string | null }) => [c.id, c.revokedAt]),
      [[ofB.id, null]],
    );
    assert.equal(await smtpAuthWorks(ofB.username, ofB.password), true);
  });

  test('DELETE revokes (204): AUTH stops working, the list says when; a second DELETE is 404', async () => {
    const c = await createCredential(tenantA, op);
    const del = await app.request('DELETE', `${path(tenantA)}/${c.id}`, op);
    assert.equal(del.status, 204, del.text);
    assert.equal(await smtpAuthWorks(c.username, c.password), false);
    const list = await app.request('GET', path(tenantA), op);
    const entry = list.json.find((x: { id: string }) => x.id === c.id);
    assert.ok(entry.revokedAt && !Number.isNaN(Date.parse(entry.revokedAt)), entry.revokedAt);
    assert.equal((await app.request('DELETE', `${path(tenantA)}/${c.id}`, op)).status, 404);
    assert.equal((await app.request('DELETE', `${path(tenantA)}/not-a-uuid`, op)).status, 404);
  });

  test('without a token the API answers 401', async () => {
    assert.equal((await app.request('GET', path(tenantA))).status, 401);
    assert.equal((await app.request('POST', path(tenantA), { body: {} })).status, 401);
  });

  test('no password handed out in this file ever reached the logs', () => {
    assert.ok(passwords.length >= 5, 'the file created credentials');
    assert.ok(app.logs.length > 0, 'the logs were captured');
    const logs = app.logs.join('\n');
    for (const p of passwords) assert.ok(!logs.includes(p), 'a password in the logs');
  });
});
