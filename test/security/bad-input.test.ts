/**
 * Bad input gets a clear 4xx, never a 500 and never a stall: deeply nested JSON, NUL
 * characters in text fields and in mail headers, an oversized upload, a token outside the
 * Authorization header; SMTP AUTH guessing is slowed, locked out, logged and counted, and
 * connections are capped per client address. The same uncovered From gets the same code
 * from POST …/sign and from SMTP intake.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTransport } from 'nodemailer';
import { startApp, type TestApp } from '../support/app';
import { op, setupTenant, submit, submitter, type RelayTenant } from '../support/relay';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';

let app: TestApp;
let sink: SmtpSink;
let tenant: RelayTenant;

before(async () => {
  sink = await startSink();
  app = await startApp({
    SMTP_AUTH_FAILURES_PER_ADDRESS: '4',
    SMTP_MAX_CONNECTIONS_PER_ADDRESS: '3',
  });
  tenant = await setupTenant(app, sink.port);
});
after(async () => {
  await app?.close();
  await sink?.stop();
});

const post = (path: string, raw: string, token: string | undefined = op.token) =>
  app.request('POST', path, { token, raw });

describe('JSON bodies', () => {
  test('3,000 levels of nesting: 400 before it is turned into objects', async () => {
    const deep = `{"name": ${'['.repeat(3000)}${']'.repeat(3000)}}`;
    const r = await post('/v1/tenants', deep);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'invalid_request');
    assert.match(r.json.error.message, /nested deeper than 32 levels/);
  });

  test('a 1 MB nested body is refused as well, and the service keeps answering', async () => {
    const half = 500_000;
    const huge = `${'['.repeat(half)}${']'.repeat(half)}`;
    const [r, health] = await Promise.all([
      post('/v1/tenants', huge),
      fetch(`${app.url}/healthz`).then((h) => h.status),
    ]);
    assert.equal(r.status, 400, r.text.slice(0, 200));
    assert.equal(health, 200);
  });

  test('NUL in a tenant name, a key label, a credential label or a webhook description: 400', async () => {
    const nul = 'Ex\\u0000ample';
    for (const [path, body] of [
      ['/v1/tenants', `{"name": "${nul}"}`],
      [`/v1/tenants/${tenant.id}/api-keys`, `{"label": "${nul}"}`],
      [`/v1/tenants/${tenant.id}/smtp-credentials`, `{"label": "${nul}"}`],
      [
        `/v1/tenants/${tenant.id}/webhooks`,
        `{"url": "https://hooks.example.com/x", "events": ["message.delivery_failed"], "description": "${nul}"}`,
      ],
    ]) {
      const r = await post(path, body);
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.match(r.json.error.message, /NUL character/);
    }
    const fine = await post('/v1/tenants', '{"name": "Example \\\\u0000 literally"}');
    assert.equal(fine.status, 201, 'an escaped backslash before u0000 is no NUL');
  });
});

describe('uploads and tokens', () => {
  test('a multipart upload over the limit: 413 in the API error shape', async () => {
    const form = new FormData();
    form.append('file', new Blob([Buffer.alloc(300 * 1024, 1)]), 'big.p12');
    form.append('password', 'x');
    const r = await fetch(`${app.url}/v1/tenants/${tenant.id}/certificates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${op.token}` },
      body: form,
    });
    assert.equal(r.status, 413);
    const body = (await r.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'too_large');
  });

  test('a token in the query string or the JSON body is not accepted', async () => {
    const q = await fetch(`${app.url}/v1/tenants?access_token=${encodeURIComponent(op.token)}`);
    assert.equal(q.status, 401);
    const b = await app.request('POST', '/v1/tenants', {
      raw: JSON.stringify({ name: 'x', access_token: op.token }),
    });
    assert.equal(b.status, 401);
    const h = await app.request('GET', '/v1/tenants', op);
    assert.equal(h.status, 200, 'the Authorization header still works');
  });
});

describe('SMTP', () => {
  test('a NUL in a header is a permanent 550 [malformed_message], not a 451', async () => {
    const raw = Buffer.from(
      'From: News <news@example.com>\r\nTo: r@example.net\r\nSubject: a\u0000b\r\n\r\nHello\r\n',
    );
    const client = submitter(app.smtpPort!, tenant, 1);
    try {
      await assert.rejects(submit(client, raw), /550 5\.7\.1 \[malformed_message\] .*NUL/);
    } finally {
      client.close();
    }
  });

  test('POST …/sign and SMTP intake refuse an uncovered From with the same code', async () => {
    const raw = 'From: other@example.org\r\nTo: r@example.net\r\nSubject: x\r\n\r\nHi\r\n';
    const sign = await app.request('POST', `/v1/tenants/${tenant.id}/sign`, {
      ...op,
      raw,
      contentType: 'message/rfc822',
    });
    assert.equal(sign.json.error.code, 'from_mismatch');
    const client = submitter(app.smtpPort!, tenant, 1);
    try {
      await assert.rejects(submit(client, Buffer.from(raw)), /\[from_mismatch\]/);
    } finally {
      client.close();
    }
  });

  test('AUTH guessing: slowed, then locked out (454) even with the right password; logged and counted', async () => {
    const login = (pass: string) => {
      const t = createTransport({
        host: '127.0.0.1',
        port: app.smtpPort,
        secure: false,
        ignoreTLS: true,
        auth: { user: tenant.username, pass },
      });
      return t.verify().finally(() => t.close());
    };
    const started = Date.now();
    for (let i = 0; i < 4; i++) await assert.rejects(login(`wrong-${i}`), /535/);
    assert.ok(Date.now() - started >= 200 + 400 + 800, 'each failure waits longer');
    await assert.rejects(login(tenant.password), /454.*too many failed logins/);
    assert.ok(
      app.logs.some((l) => l.includes(`SMTP AUTH failed for "${tenant.username}" from`)),
      'a log line names the username and the address',
    );
    assert.ok(!app.logs.some((l) => l.includes('wrong-')), 'never the password');
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /smime_relay_smtp_auth_failures_total\{reason="bad_credentials"\} 4/);
    assert.match(metrics, /smime_relay_smtp_auth_failures_total\{reason="throttled"\} 1/);
  });

  test('more connections from one address than allowed get 421', async () => {
    const open = () =>
      new Promise<{ greeting: string; close: () => void }>((resolve) => {
        const s = connect(app.smtpPort!, '127.0.0.1');
        s.once('data', (d) => resolve({ greeting: d.toString(), close: () => s.destroy() }));
      });
    const sockets = [await open(), await open(), await open()];
    try {
      for (const s of sockets) assert.match(s.greeting, /^220 /);
      const fourth = await open();
      fourth.close();
      assert.match(fourth.greeting, /^421 4\.7\.0 too many connections from your address/);
    } finally {
      for (const s of sockets) s.close();
    }
    await new Promise((r) => setTimeout(r, 200));
    const again = await open();
    again.close();
    assert.match(again.greeting, /^220 /, 'slots are freed when connections close');
  });
});
