import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { op } from '../support/relay';
import { createTestPki, P12_PASSWORD } from '../helpers/pki';
import { DnsLookupHolder } from '../../src/common/dns-lookup';
import { stubDns } from './stub-dns';

const PUBLIC_KEY = 'MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=';
const ONE_CLICK =
  'From: news@example.com\r\nList-Unsubscribe: <https://example.com/u/1>\r\n' +
  'List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nSubject: hi\r\n\r\nbody\r\n';

describe('GET /v1/tenants/:id/domains/:domain/readiness', () => {
  let app: TestApp;
  let tenantId: string;
  const dns = stubDns({
    txt: {
      'example.com': ['v=spf1 ip4:192.0.2.0/24 -all'],
      'sel1._domainkey.example.com': [`v=DKIM1; k=ed25519; p=${PUBLIC_KEY}`],
      '_dmarc.example.com': ['v=DMARC1; p=reject'],
    },
    a: { 'smtp.upstream.test': ['192.0.2.25'] },
  });

  async function addMessage(from: string, raw: string | null, envelopeFrom = 'bounce@example.com') {
    await app.db.session.query(
      `INSERT INTO messages (id, tenant_id, source, envelope_from, envelope_to, from_address, size, raw, state)
       VALUES ($1, $2, 'smtp', $3, ARRAY['a@example.net'], $4, 10, $5, 'delivered')`,
      [randomUUID(), tenantId, envelopeFrom, from, raw === null ? null : Buffer.from(raw)],
    );
  }

  before(async () => {
    app = await startApp();
    app.nest.get(DnsLookupHolder).lookup = dns;
    const t = await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Readiness' } });
    assert.equal(t.status, 201, t.text);
    tenantId = t.json.id;
    const pki = await createTestPki();
    const c = await app.request('POST', `/v1/tenants/${tenantId}/certificates`, {
      ...op,
      body: { pkcs12: pki.identities.rsa2048.p12!.toString('base64'), password: P12_PASSWORD },
    });
    assert.equal(c.status, 201, c.text);
    const d = await app.request('PUT', `/v1/tenants/${tenantId}/delivery`, {
      ...op,
      body: { transport: 'smtp', host: 'smtp.upstream.test', port: 25, secure: false },
    });
    assert.equal(d.status, 200, d.text);
    await app.db.session.query(
      `INSERT INTO dkim_keys (tenant_id, domain, selector, algorithm, public_key, sealed_private_key)
       VALUES ($1, 'example.com', 'sel1', 'ed25519-sha256', $2, '\\x00')`,
      [tenantId, PUBLIC_KEY],
    );
    await addMessage('news@example.com', ONE_CLICK);
    await app.db.session.query(
      `INSERT INTO transit_checks (id, tenant_id, from_address, seed_address, state, trigger, finished_at, result)
       VALUES ($1, $2, 'news@example.com', 'seed@example.net', 'passed', 'api', now(), '{"problems": []}')`,
      [randomUUID(), tenantId],
    );
  });
  after(() => app?.close());

  const readiness = (domain = 'example.com', token = op.token) =>
    app.request('GET', `/v1/tenants/${tenantId}/domains/${domain}/readiness`, { token });

  test('a ready domain: every check passes, answered by the stub resolver', async () => {
    const r = await readiness();
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.domain, 'example.com');
    assert.ok(!Number.isNaN(Date.parse(r.json.checkedAt)));
    assert.deepEqual(
      r.json.items.map((i: { check: string; status: string }) => `${i.check}:${i.status}`),
      ['spf:pass', 'dkim:pass', 'dmarc:pass', 'smime:pass', 'unsubscribe:pass', 'transit:pass'],
      JSON.stringify(r.json.items),
    );
    assert.equal(r.json.overall, 'pass');
    assert.ok(dns.asked.includes('A smtp.upstream.test'));
  });

  test('a sender without a certificate and mail without one-click unsubscribe are reported', async () => {
    await addMessage('promo@example.com', 'From: promo@example.com\r\nSubject: x\r\n\r\nbody');
    await addMessage('old@example.com', null);
    const r = await readiness();
    const item = Object.fromEntries(r.json.items.map((i: { check: string }) => [i.check, i]));
    assert.equal(item.smime.status, 'fail');
    assert.match(
      item.smime.summary,
      /old@example\.com, promo@example\.com|promo@example\.com, old@example\.com/,
    );
    assert.match(item.smime.fix, /Upload an S\/MIME certificate/);
    assert.equal(item.unsubscribe.status, 'warn');
    assert.match(item.unsubscribe.summary, /1 of 2 recent message/);
    assert.equal(r.json.overall, 'fail');
  });

  test('an unknown tenant is 404, a bad domain 400, no token 401', async () => {
    const unknown = await app.request(
      'GET',
      `/v1/tenants/${randomUUID()}/domains/example.com/readiness`,
      op,
    );
    assert.equal(unknown.status, 404);
    assert.equal((await readiness('not_a_domain')).status, 400);
    assert.equal((await readiness('example.com', '')).status, 401);
  });
});
