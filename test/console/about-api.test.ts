/**
 * The console's own routes: /console's files and headers, GET /v1/about for any caller and
 * GET /v1/overview for the operator only; and the static scripts never build HTML from text.
 */
import assert from 'node:assert/strict';
import { EVENT_TYPES } from '../../src/events/event-types';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { op } from '../support/relay';
import { createTestPki, P12_PASSWORD } from '../helpers/pki';
import { smtpEndpoint } from '../../src/console/console-facts';
import { STATIC_DIR } from '../../src/console/console-assets';

describe('console routes', () => {
  let app: TestApp;
  let tenantKey = '';
  let tenantId = '';

  before(async () => {
    app = await startApp({ SMTP_PORT: '2599', PUBLIC_URL: 'https://relay.example.com' });
    const t = await app.request('POST', '/v1/tenants', { ...op, body: { name: 'About' } });
    tenantId = t.json.id;
    tenantKey = (await app.request('POST', `/v1/tenants/${tenantId}/api-keys`, { ...op, body: {} }))
      .json.key;
  });
  after(() => app?.close());

  test('GET /v1/about tells the caller, the public URL, SMTP and the transports', async () => {
    const r = await app.request('GET', '/v1/about', op);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.caller, { kind: 'operator' });
    assert.equal(r.json.publicUrl, 'https://relay.example.com');
    assert.deepEqual(r.json.smtp, { host: 'relay.example.com', port: 2599, starttls: false });
    assert.ok(r.json.transports.includes('smtp'), r.text);
    assert.deepEqual(r.json.webhookEvents, [...EVENT_TYPES]);
    assert.match(r.json.version, /^\d+\.\d+\.\d+/);
    const asTenant = await app.request('GET', '/v1/about', { token: tenantKey });
    assert.deepEqual(asTenant.json.caller, { kind: 'tenant', tenantId });
    const nobody = await app.request('GET', '/v1/about');
    assert.equal(nobody.status, 401);
    assert.equal(nobody.json.error.code, 'unauthorized');
  });

  test('GET /v1/overview: messages per state and certificates expiring within 30 days', async () => {
    const pki = await createTestPki();
    const up = await app.request('POST', `/v1/tenants/${tenantId}/certificates`, {
      ...op,
      body: { pkcs12: pki.identities.rsa2048.p12!.toString('base64'), password: P12_PASSWORD },
    });
    assert.equal(up.status, 201, up.text);
    // Bring the certificate's end inside the window, and add two messages in the spool.
    await app.db.session.query(
      "UPDATE certificates SET not_after = now() + interval '10 days' WHERE tenant_id = $1",
      [tenantId],
    );
    for (const state of ['delivered', 'failed']) {
      await app.db.session.query(
        `INSERT INTO messages (id, tenant_id, source, envelope_from, envelope_to, from_address,
           size, state) VALUES (gen_random_uuid(), $1, 'smtp', 'b@example.com',
           ARRAY['r@example.net'], 'news@example.com', 10, $2)`,
        [tenantId, state],
      );
    }
    const r = await app.request('GET', '/v1/overview', op);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.messages, {
      queued: 0,
      retrying: 0,
      delivered: 1,
      failed: 1,
      sent_unsigned: 0,
    });
    assert.equal(r.json.expiringCertificates.length, 1);
    assert.equal(r.json.expiringCertificates[0].tenantName, 'About');
    assert.deepEqual(r.json.expiringCertificates[0].emailAddresses, [
      'news@example.com',
      'info@example.com',
    ]);
    const asTenant = await app.request('GET', '/v1/overview', { token: tenantKey });
    assert.equal(asTenant.status, 403);
    assert.equal(asTenant.json.error.code, 'forbidden');
  });

  test('only the console folder’s own files are served', async () => {
    for (const path of ['/console', '/console/', '/console/styles.css', '/console/i18n.js']) {
      const r = await fetch(app.url + path);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.equal(r.headers.get('cache-control'), 'no-cache');
    }
    for (const path of ['/console/nope.js', '/console/%2e%2e%2fconsole.module.ts']) {
      assert.equal((await fetch(app.url + path)).status, 404, path);
    }
  });
});

test('smtpEndpoint: a wildcard bind becomes 127.0.0.1; PUBLIC_URL names the host', () => {
  assert.deepEqual(smtpEndpoint({}, { SMTP_HOST: '0.0.0.0' }), {
    host: '127.0.0.1',
    port: 2525,
    starttls: false,
  });
  assert.deepEqual(
    smtpEndpoint(
      { PUBLIC_URL: 'https://mail.example.com:8443/relay' },
      { SMTP_PORT: '587', SMTPS_PORT: '465', SMTP_TLS_CERT: 'c.pem', SMTP_TLS_KEY: 'k.pem' },
    ),
    { host: 'mail.example.com', port: 587, starttls: true, tlsPort: 465 },
  );
});

test('the console scripts build the page from text nodes, never from HTML strings', () => {
  const scripts = readdirSync(STATIC_DIR).filter((f) => f.endsWith('.js'));
  assert.ok(scripts.length >= 8);
  for (const f of scripts) {
    const code = readFileSync(join(STATIC_DIR, f), 'utf8');
    assert.doesNotMatch(
      code,
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/,
      f,
    );
  }
  const html = readFileSync(join(STATIC_DIR, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /<script>|\sstyle=|\son[a-z]+=/i);
});
