/**
 * The one egress policy, tried as a malicious tenant would with only a tenant API key, on a
 * relay started without any *_ALLOW_PRIVATE setting and without SMTP_UPSTREAM_ALLOW:
 * provider API roots and SES endpoints are the operator's to set; an operator-set root is
 * still checked, redirects are never followed and its answer's body never read back; SMTP
 * upstreams on private networks need the operator's allow-list, metadata never passes;
 * every IPv6 form wrapping a refused IPv4 address is refused with it.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { op } from '../support/relay';

const SECRET = 'SECRET-FROM-THE-INTERNAL-NETWORK';

/** An "internal" HTTP service, and one that redirects to it; both count their requests. */
async function internalServices() {
  let internalHits = 0;
  let redirectHits = 0;
  const internal = createServer((_req, res) => {
    internalHits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(`{"message":"${SECRET}"}`);
  });
  await new Promise<void>((r) => internal.listen(0, '127.0.0.1', r));
  const internalUrl = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
  const redirect = createServer((_req, res) => {
    redirectHits++;
    res
      .writeHead(302, { location: `${internalUrl}/latest/meta-data/` })
      .end(`{"message":"${SECRET}"}`);
  });
  await new Promise<void>((r) => redirect.listen(0, '127.0.0.1', r));
  const redirectUrl = `http://127.0.0.1:${(redirect.address() as AddressInfo).port}`;
  return {
    internalUrl,
    redirectUrl,
    hits: () => ({ internal: internalHits, redirect: redirectHits }),
    close: async () => {
      for (const s of [internal, redirect] as Server[]) await new Promise((r) => s.close(r));
    },
  };
}

async function tenantWithKey(app: TestApp): Promise<{ id: string; key: string }> {
  const t = await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Hostile' } });
  const k = await app.request('POST', `/v1/tenants/${t.json.id}/api-keys`, { ...op, body: {} });
  return { id: t.json.id, key: k.json.key };
}

describe('egress policy on a relay with nothing allowed', { timeout: 120_000 }, () => {
  let app: TestApp;
  let services: Awaited<ReturnType<typeof internalServices>>;
  let tenant: { id: string; key: string };

  before(async () => {
    services = await internalServices();
    app = await startApp({
      SMTP_UPSTREAM_ALLOW: '',
      PROVIDER_API_ALLOW_PRIVATE: 'false',
      WEBHOOK_ALLOW_PRIVATE: 'true', // even then, metadata stays refused
    });
    tenant = await tenantWithKey(app);
  });
  after(async () => {
    await app?.close();
    await services?.close();
  });

  const put = (body: object, token = tenant.key) =>
    app.request('PUT', `/v1/tenants/${tenant.id}/delivery`, { token, body });

  test('a tenant cannot set a provider API root or SES endpoint (403); a region is fine', async () => {
    for (const body of [
      { transport: 'mailgun', apiKey: 'k', domain: 'mg.example.com', baseUrl: services.redirectUrl },
      { transport: 'sparkpost', apiKey: 'k', baseUrl: 'http://169.254.169.254/' },
      { transport: 'ses', region: 'eu-west-1', accessKeyId: 'AKIAEXAMPLEEXAMPLE01', secretAccessKey: 's', endpoint: services.internalUrl },
      { transport: 'sendgrid', apiKey: 'k', host: '127.0.0.1', port: 25 },
      { transport: 'postmark', serverToken: 'k', host: '10.0.0.5' },
    ]) {
      const r = await put(body);
      assert.equal(r.status, 403, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.json.error.code, 'forbidden');
    }
    const region = await put({ transport: 'mailgun', apiKey: 'k', domain: 'mg.example.com', region: 'eu' });
    assert.equal(region.status, 200, region.text);
    const documented = await put({ transport: 'postmark', serverToken: 'k', host: 'smtp-broadcasts.postmarkapp.com' });
    assert.equal(documented.status, 200, `a provider's own relay host: ${documented.text}`);
    assert.equal(services.hits().internal + services.hits().redirect, 0);
  }); // prettier-ignore

  test('an operator-set root on loopback or metadata is refused without PROVIDER_API_ALLOW_PRIVATE', async () => {
    for (const baseUrl of [services.internalUrl, 'http://169.254.169.254', 'http://[2002:7f00:1::]:80']) {
      const r = await put({ transport: 'mailgun', apiKey: 'k', domain: 'mg.example.com', baseUrl }, op.token);
      assert.equal(r.status, 400, r.text);
      assert.match(r.json.error.message, /baseUrl: .*(loopback|metadata) address/);
    }
  }); // prettier-ignore

  test('SMTP upstreams: private, loopback and metadata refused, with the setting that opens them', async () => {
    for (const host of ['127.0.0.1', '10.0.0.5', '[::1]', '::ffff:192.168.1.1', '169.254.169.254', '100.100.100.200']) {
      const r = await put({ transport: 'smtp', host, port: 25 });
      assert.equal(r.status, 400, `${host}: ${r.text}`);
      assert.match(r.json.error.message, /^host: /);
    }
    const r = await put({ transport: 'smtp', host: '10.0.0.5', port: 25 });
    assert.match(r.json.error.message, /SMTP_UPSTREAM_ALLOW/);
  }); // prettier-ignore

  test('a stored upstream on loopback is refused at connect time: verify never connects', async () => {
    let connections = 0;
    const listener = createTcpServer((s) => {
      connections++;
      s.end('220 internal ESMTP\r\n');
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    try {
      const port = (listener.address() as AddressInfo).port;
      // As if saved while the policy allowed it (or through DNS that changed since).
      await app.db.session.query(
        `INSERT INTO delivery_settings (tenant_id, transport, settings, updated_at)
         VALUES ($1, 'smtp', $2, now())
         ON CONFLICT (tenant_id) DO UPDATE SET transport = 'smtp', settings = $2, sealed_secrets = NULL`,
        [tenant.id, JSON.stringify({ host: '127.0.0.1', port, secure: false })],
      );
      const v = await app.request('POST', `/v1/tenants/${tenant.id}/delivery/verify`, {
        token: tenant.key,
      });
      assert.equal(v.status, 200, v.text);
      assert.equal(v.json.ok, false);
      assert.match(v.json.error.message, /SMTP upstream is refused: .*loopback address/);
      assert.equal(connections, 0, 'no connection was made');
    } finally {
      await new Promise((r) => listener.close(r));
    }
  });

  test('webhooks: metadata and 6to4-wrapped loopback stay refused', async () => {
    for (const url of ['http://100.100.100.200/hook', 'http://[fd00:ec2::254]/', 'http://169.254.169.254/']) {
      const r = await app.request('POST', `/v1/tenants/${tenant.id}/webhooks`, {
        token: tenant.key,
        body: { url, events: ['message.delivery_failed'] },
      });
      assert.equal(r.status, 400, `${url}: ${r.text}`);
      assert.match(r.text, /metadata address/);
    }
  }); // prettier-ignore
});

describe(
  'an operator-set root with PROVIDER_API_ALLOW_PRIVATE: no redirects, no read-back',
  { timeout: 60_000 },
  () => {
    let app: TestApp;
    let services: Awaited<ReturnType<typeof internalServices>>;
    let tenant: { id: string; key: string };

    before(async () => {
      services = await internalServices();
      app = await startApp({ PROVIDER_API_ALLOW_PRIVATE: 'true' });
      tenant = await tenantWithKey(app);
    });
    after(async () => {
      await app?.close();
      await services?.close();
    });

    for (const transport of ['mailgun', 'sparkpost'] as const) {
      test(`${transport}: verify against a root that redirects inward neither follows nor quotes it`, async () => {
        const body =
          transport === 'mailgun'
            ? { transport, apiKey: 'k', domain: 'mg.example.com', baseUrl: services.redirectUrl }
            : { transport, apiKey: 'k', baseUrl: services.redirectUrl };
        const saved = await app.request('PUT', `/v1/tenants/${tenant.id}/delivery`, {
          ...op,
          body,
        });
        assert.equal(saved.status, 200, saved.text);
        const before = services.hits();
        const v = await app.request('POST', `/v1/tenants/${tenant.id}/delivery/verify`, {
          token: tenant.key,
        });
        assert.equal(v.json.ok, false);
        assert.ok(!v.text.includes(SECRET), `no read-back: ${v.text}`);
        assert.match(v.text, /302/);
        const after = services.hits();
        assert.equal(after.redirect, before.redirect + 1, 'the root was asked once');
        assert.equal(after.internal, before.internal, 'the redirect was not followed');
      });
    }

    test('ses: an operator-set endpoint that redirects inward is neither followed nor quoted', async () => {
      const body = {
        transport: 'ses',
        region: 'eu-west-1',
        accessKeyId: 'AKIAEXAMPLEEXAMPLE01',
        secretAccessKey: 's',
        endpoint: services.redirectUrl,
      };
      const before = services.hits();
      const saved = await app.request('PUT', `/v1/tenants/${tenant.id}/delivery`, { ...op, body });
      assert.equal(saved.status, 200, saved.text);
      const v = await app.request('POST', `/v1/tenants/${tenant.id}/delivery/verify`, {
        token: tenant.key,
      });
      assert.equal(v.json.ok, false, v.text);
      assert.ok(!v.text.includes(SECRET), `no read-back: ${v.text}`);
      assert.equal(services.hits().internal, before.internal, 'the redirect was not followed');
      assert.equal(services.hits().redirect, before.redirect + 1);
    });
  },
);
