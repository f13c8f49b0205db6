import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { freePort } from '../helpers/ports';
import { createTestPki, P12_PASSWORD } from '../helpers/pki';
import { op, submit, submitter } from '../support/relay';

const UPSTREAM_USER = 'relay-upstream-user';
const UPSTREAM_PASS = 'upstream-Pa55word-that-must-never-show';

/** A loopback upstream that insists on AUTH with UPSTREAM_USER and UPSTREAM_PASS. */
async function startAuthUpstream(): Promise<{
  port: number;
  logins: boolean[];
  stop(): Promise<void>;
}> {
  const logins: boolean[] = [];
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, done) {
      const ok = auth.username === UPSTREAM_USER && auth.password === UPSTREAM_PASS;
      logins.push(ok);
      if (ok) done(null, { user: auth.username });
      else done(Object.assign(new Error('5.7.8 bad credentials'), { responseCode: 535 }));
    },
    onData(stream, _session, done) {
      stream.resume();
      stream.on('end', () => done());
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.server.address() as { port: number }).port,
    logins,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let app: TestApp;
let sink: SmtpSink;

before(async () => {
  sink = await startSink();
  app = await startApp();
});
after(async () => {
  await app?.close();
  await sink?.stop();
});

async function newTenant(name = 'Delivery settings test'): Promise<string> {
  const r = await app.request('POST', '/v1/tenants', { ...op, body: { name } });
  assert.equal(r.status, 201, r.text);
  return r.json.id;
}

const deliveryOf = (tenantId: string) => `/v1/tenants/${tenantId}/delivery`;

function put(tenantId: string, body: unknown, token = op.token) {
  return app.request('PUT', deliveryOf(tenantId), { token, body });
}

const verify = (tenantId: string, token = op.token) =>
  app.request('POST', `${deliveryOf(tenantId)}/verify`, { token });

describe('delivery settings API', () => {
  test('bad fields are refused with a 400 that names them, and nothing is stored', async () => {
    const tenantId = await newTenant();
    const cases: [object, RegExp][] = [
      [{ host: '127.0.0.1' }, /transport/],
      [{ transport: 'smtp', port: 25 }, /host/],
      [{ transport: 'smtp', host: '127.0.0.1', port: 70000 }, /port/],
      [{ transport: 'smtp', host: '127.0.0.1', port: 'twenty-five' }, /port/],
      [{ transport: 'smtp', host: '127.0.0.1', secure: 'yes' }, /secure/],
      [{ transport: 'smtp', host: '127.0.0.1', auth: { user: '', pass: 'x' } }, /auth\.user/],
      [{ transport: 'smtp', host: '127.0.0.1', auth: { user: 'u', pass: 42 } }, /auth\.pass/],
      [{ transport: 'smtp', host: '127.0.0.1', relayHost: 'x' }, /relayHost/],
    ];
    for (const [body, field] of cases) {
      const r = await put(tenantId, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.json.error.code, 'invalid_request');
      assert.match(r.json.error.message, field, JSON.stringify(body));
    }
    assert.equal((await app.request('GET', deliveryOf(tenantId), op)).status, 404);
  });

  test('an unknown transport is refused with the list of known ones', async () => {
    const r = await put(await newTenant(), { transport: 'carrier-pigeon', host: 'x' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'invalid_request');
    assert.match(r.json.error.message, /carrier-pigeon/);
    assert.match(r.json.error.message, /one of: .*smtp/);
  });

  test('the upstream password is redacted on read and sealed at rest', async () => {
    const tenantId = await newTenant();
    const stored = await put(tenantId, {
      transport: 'smtp',
      host: '127.0.0.1',
      port: sink.port,
      auth: { user: UPSTREAM_USER, pass: UPSTREAM_PASS },
    });
    assert.equal(stored.status, 200, stored.text);
    assert.equal(stored.json.auth.pass, '[redacted]');
    const shown = await app.request('GET', deliveryOf(tenantId), op);
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.json.transport, 'smtp');
    assert.equal(shown.json.port, sink.port);
    assert.deepEqual(shown.json.auth, { user: UPSTREAM_USER, pass: '[redacted]' });
    assert.ok(!shown.text.includes(UPSTREAM_PASS));

    const [row] = await app.db.session.query<{ settings: string; sealed_secrets: Buffer }>(
      'SELECT settings::text AS settings, sealed_secrets FROM delivery_settings WHERE tenant_id = $1',
      [tenantId],
    );
    assert.ok(row.settings.includes(UPSTREAM_USER), 'the plain settings are stored as JSON');
    assert.ok(!row.settings.includes(UPSTREAM_PASS), 'no password in the settings JSON');
    const sealed = Buffer.from(row.sealed_secrets);
    assert.ok(sealed.length > 0, 'the password is sealed');
    for (const form of [
      Buffer.from(UPSTREAM_PASS),
      Buffer.from(Buffer.from(UPSTREAM_PASS).toString('base64')),
      Buffer.from(Buffer.from(UPSTREAM_PASS).toString('hex')),
    ]) {
      assert.equal(sealed.indexOf(form), -1, 'no password in the sealed bytes');
    }
    assert.ok(!app.logs.some((l) => l.includes(UPSTREAM_PASS)), 'no password in the log');
  });

  test('a PUT with "[redacted]" keeps the stored password, as verify against an AUTH upstream shows', async () => {
    const upstream = await startAuthUpstream();
    try {
      const tenantId = await newTenant();
      const settings = { transport: 'smtp', host: '127.0.0.1', port: upstream.port };
      const auth = (pass: string) => ({ ...settings, auth: { user: UPSTREAM_USER, pass } });

      assert.equal((await put(tenantId, auth(UPSTREAM_PASS))).status, 200);
      assert.deepEqual((await verify(tenantId)).json, { ok: true, checked: true });

      const kept = await put(tenantId, { ...auth('[redacted]'), maxConnections: 2 });
      assert.equal(kept.status, 200, kept.text);
      assert.equal(kept.json.maxConnections, 2);
      assert.deepEqual((await verify(tenantId)).json, { ok: true, checked: true });

      // The control: a wrong password does fail, and "[redacted]" then keeps the wrong one.
      assert.equal((await put(tenantId, auth('not-the-password'))).status, 200);
      const wrong = await verify(tenantId);
      assert.equal(wrong.status, 200, wrong.text);
      assert.equal(wrong.json.ok, false);
      assert.match(wrong.json.error.reply, /^535 /);
      assert.equal((await put(tenantId, auth('[redacted]'))).status, 200);
      assert.equal((await verify(tenantId)).json.ok, false);
      assert.deepEqual(upstream.logins, [true, true, false, false]);
    } finally {
      await upstream.stop();
    }
  });

  test('"[redacted]" without a stored password is refused', async () => {
    const r = await put(await newTenant(), {
      transport: 'smtp',
      host: '127.0.0.1',
      auth: { user: UPSTREAM_USER, pass: '[redacted]' },
    });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error.message, /auth\.pass/);
  });

  test('verify says ok against a live upstream and gives the error against a closed port', async () => {
    const live = await newTenant();
    assert.equal(
      (await put(live, { transport: 'smtp', host: '127.0.0.1', port: sink.port })).status,
      200,
    );
    const ok = await verify(live);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { ok: true, checked: true });

    const closed = await newTenant();
    const port = await freePort();
    assert.equal((await put(closed, { transport: 'smtp', host: '127.0.0.1', port })).status, 200);
    const down = await verify(closed);
    assert.equal(down.status, 200, down.text);
    assert.equal(down.json.ok, false);
    assert.equal(down.json.error.permanent, false);
    assert.match(down.json.error.message, /could not be reached/);
  });

  test("a tenant key cannot see or change another tenant's settings (404)", async () => {
    const owner = await newTenant('Owner');
    const stranger = await newTenant('Stranger');
    assert.equal(
      (await put(owner, { transport: 'smtp', host: '127.0.0.1', port: sink.port })).status,
      200,
    );
    const key = await app.request('POST', `/v1/tenants/${stranger}/api-keys`, { ...op, body: {} });
    assert.equal(key.status, 201, key.text);
    const token = key.json.key as string;

    assert.equal((await app.request('GET', deliveryOf(owner), { token })).status, 404);
    assert.equal((await verify(owner, token)).status, 404);
    const change = await put(owner, { transport: 'smtp', host: 'evil.example', port: 25 }, token);
    assert.equal(change.status, 404);
    assert.equal((await app.request('GET', deliveryOf(owner), op)).json.host, '127.0.0.1');
    // Its own settings it may set and read.
    assert.equal(
      (await put(stranger, { transport: 'smtp', host: '127.0.0.1' }, token)).status,
      200,
    );
    assert.equal((await app.request('GET', deliveryOf(stranger), { token })).json.port, 587);
  });

  test('without settings, GET is 404, verify is 409 and SMTP submission is deferred with 451', async () => {
    const tenantId = await newTenant('No upstream yet');
    const pki = await createTestPki();
    const cert = await app.request('POST', `/v1/tenants/${tenantId}/certificates`, {
      ...op,
      body: { pkcs12: pki.identities.rsa2048.p12!.toString('base64'), password: P12_PASSWORD },
    });
    assert.equal(cert.status, 201, cert.text);
    const creds = await app.request('POST', `/v1/tenants/${tenantId}/smtp-credentials`, {
      ...op,
      body: {},
    });
    assert.equal(creds.status, 201, creds.text);

    const shown = await app.request('GET', deliveryOf(tenantId), op);
    assert.equal(shown.status, 404);
    assert.equal(shown.json.error.code, 'not_found');
    const checked = await verify(tenantId);
    assert.equal(checked.status, 409, checked.text);
    assert.equal(checked.json.error.code, 'delivery_not_configured');

    const client = submitter(app.smtpPort!, creds.json, 1);
    const raw = Buffer.from(
      'From: news@example.com\r\nTo: reader@example.net\r\nSubject: Hello\r\n\r\nHello.\r\n',
    );
    const refused = await submit(client, raw).then(
      () => undefined,
      (e: { responseCode?: number; response?: string }) => e,
    );
    client.close();
    assert.ok(refused, 'the submission was refused');
    assert.equal(refused.responseCode, 451);
    assert.match(refused.response ?? '', /^451 4\.3\.5 \[delivery_not_configured\]/);
    const [{ count }] = await app.db.session.query<{ count: string }>(
      'SELECT count(*) FROM messages WHERE tenant_id = $1',
      [tenantId],
    );
    assert.equal(Number(count), 0, 'nothing was spooled');
  });
});
