import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { op } from '../support/relay';
import { createTestPki, P12_PASSWORD } from '../helpers/pki';
import { doctorCommand } from '../../src/cli/doctor.command';
import { stubDns } from './stub-dns';

describe('smime-relay doctor --tenant', () => {
  let app: TestApp;
  let tenantId: string;
  const dns = stubDns({
    txt: {
      'example.com': ['v=spf1 include:mailgun.org -all'],
      'mailgun.org': ['v=spf1 ip4:192.0.2.0/24 -all'],
      '_dmarc.example.com': ['v=DMARC1; p=none'],
    },
  });

  before(async () => {
    app = await startApp();
    const t = await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Doctor' } });
    assert.equal(t.status, 201, t.text);
    tenantId = t.json.id;
    const pki = await createTestPki();
    const c = await app.request('POST', `/v1/tenants/${tenantId}/certificates`, {
      ...op,
      body: { pkcs12: pki.identities.rsa2048.p12!.toString('base64'), password: P12_PASSWORD },
    });
    assert.equal(c.status, 201, c.text);
    await app.db.session.query(
      `INSERT INTO delivery_settings (tenant_id, transport, settings) VALUES ($1, 'mailgun', '{}')`,
      [tenantId],
    );
    await app.db.session.query(
      `INSERT INTO messages (id, tenant_id, source, envelope_from, envelope_to, from_address, size, raw, state)
       VALUES ($1, $2, 'api', 'bounce@example.com', ARRAY['a@example.net'], 'news@example.com', 10, $3, 'delivered')`,
      [randomUUID(), tenantId, Buffer.from('From: news@example.com\r\n\r\nbody')],
    );
    process.env.DATABASE_URL = app.databaseUrl;
  });
  after(() => app?.close());

  test('reads the tenant from DATABASE_URL and prints all five checks', async () => {
    const out: string[] = [];
    const code = await doctorCommand(['--domain', 'example.com', '--tenant', tenantId], {
      dns,
      write: (s) => out.push(s),
    });
    const text = out.join('\n');
    assert.equal(code, 1, text);
    assert.match(text, /^PASS {2}spf {9}SPF includes mailgun\.org for mailgun/m);
    assert.match(text, /^WARN {2}dkim {8}the relay has no DKIM key for this tenant$/m);
    assert.match(text, /^WARN {2}dmarc {7}policy none .*SPF aligned/m);
    assert.match(text, /^PASS {2}smime {7}1 sender\(s\) covered; \d+ day\(s\) left/m);
    assert.match(
      text,
      /^FAIL {2}unsubscribe 0 of 1 recent message\(s\) have one-click unsubscribe$/m,
    );
  });

  test('an unknown tenant is a usage error', async () => {
    await assert.rejects(
      doctorCommand(['--domain', 'example.com', '--tenant', randomUUID()], { dns }),
      /no tenant with id/,
    );
  });
});
