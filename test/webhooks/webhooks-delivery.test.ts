/**
 * Webhooks end to end: failures produced by the real relay reach a loopback receiver,
 * signed per Standard Webhooks; retries, 410, the 50-failure limit, the test call and the
 * delivery log.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import {
  eventually,
  op,
  personalisedNewsletter,
  setupTenant,
  submit,
  submitter,
  type RelayTenant,
} from '../support/relay';
import { createTestPki, P12_PASSWORD } from '../helpers/pki';

let app: TestApp;
let sink: SmtpSink;
let receiver: WebhookReceiver;
let tenant: RelayTenant;

before(async () => {
  receiver = await startReceiver();
  sink = await startSink();
  app = await startApp({
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_INITIAL_SECONDS: '0.2',
    WEBHOOK_DISPATCH_INTERVAL_SECONDS: '0.1',
    RETRY_INITIAL_SECONDS: '0.2',
    RETRY_MAX_SECONDS: '0.5',
  });
  tenant = await setupTenant(app, sink.port);
});
after(async () => {
  await app?.close();
  await sink?.stop();
  await receiver?.close();
});

async function subscribe(events: string[]): Promise<{ id: string; secret: string }> {
  const r = await app.request('POST', `/v1/tenants/${tenant.id}/webhooks`, {
    ...op,
    body: { url: receiver.url, events, description: 'test receiver' },
  });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.secret, /^whsec_/);
  return r.json;
}

async function send(n: number): Promise<void> {
  const client = submitter(app.smtpPort!, tenant, 1);
  try {
    await submit(client, personalisedNewsletter(n));
  } finally {
    client.close();
  }
}

/** The Standard Webhooks signature, checked by hand: HMAC-SHA256 of "id.timestamp.body". */
function handVerify(secret: string, call: { headers: Record<string, unknown>; body: string }) {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signed = `${call.headers['webhook-id']}.${call.headers['webhook-timestamp']}.${call.body}`;
  const expected = createHmac('sha256', key).update(signed).digest('base64');
  const given = String(call.headers['webhook-signature'])
    .split(' ')
    .map((s) => s.replace(/^v1,/, ''));
  assert.ok(given.includes(expected), 'the hand-computed HMAC matches');
}

describe('webhooks', () => {
  let hook: { id: string; secret: string };
  before(async () => {
    hook = await subscribe(['message.signing_failed', 'message.delivery_failed']);
  });

  test('a delivery failure reaches the receiver, signed', async () => {
    sink.reply = () => ({ code: 550, text: '5.7.1 no thanks' });
    await send(1);
    const [call] = await eventually(async () => {
      const c = receiver.ofType('message.delivery_failed');
      return c.length ? c : undefined;
    });
    sink.reply = () => undefined;
    new Webhook(hook.secret).verify(call.body, call.headers as Record<string, string>);
    handVerify(hook.secret, call);
    const event = JSON.parse(call.body);
    assert.equal(event.data.tenantId, tenant.id);
    assert.equal(event.data.error.code, 'delivery_rejected');
    assert.match(event.data.error.reply, /550/);
    assert.deepEqual(event.data.recipients, ['reader@example.net']);
    assert.doesNotMatch(call.body, /Example News Weekly|BEGIN|PRIVATE/);
    assert.match(String(call.headers['webhook-id']), /^[0-9a-f-]{36}$/);
  });

  test('a signing failure reaches the receiver', async () => {
    await sink.stop();
    await send(2);
    await eventually(async () => {
      const [r] = await app.db.session.query<{ n: string }>(
        "SELECT count(*) AS n FROM messages WHERE state = 'retrying'",
      );
      return Number(r.n) > 0 ? true : undefined;
    });
    const [cert] = await app.db.session.query<{ id: string }>(
      "SELECT id FROM certificates WHERE status = 'active'",
    );
    const removed = await app.request(
      'DELETE',
      `/v1/tenants/${tenant.id}/certificates/${cert.id}`,
      op,
    );
    assert.equal(removed.status, 204);
    await sink.start();
    const [call] = await eventually(async () => {
      const c = receiver.ofType('message.signing_failed');
      return c.length ? c : undefined;
    });
    new Webhook(hook.secret).verify(call.body, call.headers as Record<string, string>);
    handVerify(hook.secret, call);
    assert.equal(JSON.parse(call.body).data.error.code, 'no_certificate');
  });

  test('the delivery log records every attempt', async () => {
    const r = await app.request(
      'GET',
      `/v1/tenants/${tenant.id}/webhooks/${hook.id}/deliveries`,
      op,
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.length, receiver.calls.length);
    for (const d of r.json) {
      assert.equal(d.status, 200);
      assert.equal(d.response, 'thanks');
      assert.equal(d.attempt, 1);
      assert.ok(d.latencyMs >= 0);
    }
  });
});

describe('webhook retries and disabling', () => {
  const uploadCertificate = async (): Promise<void> => {
    const pki = await createTestPki();
    const r = await app.request('POST', `/v1/tenants/${tenant.id}/certificates`, {
      ...op,
      body: { pkcs12: pki.identities.p256.p12!.toString('base64'), password: P12_PASSWORD },
    });
    assert.ok(r.status === 201 || r.status === 409, r.text);
  };

  test('5xx is retried until the receiver accepts; 410 disables the subscription', async () => {
    const hook = await subscribe(['certificate.added', 'certificate.removed']);
    const before = receiver.calls.length;
    receiver.status = (n) => (n < before + 2 ? 503 : 200);
    await uploadCertificate();
    await eventually(async () => (receiver.calls.length >= before + 3 ? true : undefined));
    const log = await app.request(
      'GET',
      `/v1/tenants/${tenant.id}/webhooks/${hook.id}/deliveries`,
      op,
    );
    assert.deepEqual(
      log.json.map((d: { attempt: number; status: number }) => [d.attempt, d.status]).reverse(),
      [
        [1, 503],
        [2, 503],
        [3, 200],
      ],
    );
    const ids = new Set(receiver.calls.slice(before).map((c) => c.headers['webhook-id']));
    assert.equal(ids.size, 1, 'every retry carries the same webhook-id');

    receiver.status = () => 410;
    const [cert] = await app.db.session.query<{ id: string }>(
      "SELECT id FROM certificates WHERE status = 'active' LIMIT 1",
    );
    await app.request('DELETE', `/v1/tenants/${tenant.id}/certificates/${cert.id}`, op);
    const disabled = await eventually(async () => {
      const r = await app.request('GET', `/v1/tenants/${tenant.id}/webhooks/${hook.id}`, op);
      return r.json.enabled === false ? r.json : undefined;
    });
    assert.match(disabled.disabledReason, /410/);
    receiver.status = () => 200;
  });

  test('failures disable a subscription only after failing for a long stretch; a successful test enables it again', async () => {
    const hook = await subscribe(['certificate.expired']);
    receiver.status = () => 500;
    // Many failures in a short outage: still enabled.
    await app.db.session.query(
      'UPDATE webhook_subscriptions SET consecutive_failures = 40 WHERE id = $1',
      [hook.id],
    );
    const first = await app.request(
      'POST',
      `/v1/tenants/${tenant.id}/webhooks/${hook.id}/test`,
      op,
    );
    assert.equal(first.json.ok, false);
    assert.equal(first.json.enabled, true, '41 failures within minutes: still enabled');
    // Failing for longer than WEBHOOK_DISABLE_AFTER_HOURS (24 h): the next failure disables it.
    await app.db.session.query(
      "UPDATE webhook_subscriptions SET failing_since = now() - interval '25 hours' WHERE id = $1",
      [hook.id],
    );
    const second = await app.request(
      'POST',
      `/v1/tenants/${tenant.id}/webhooks/${hook.id}/test`,
      op,
    );
    assert.equal(second.json.enabled, false, 'failing for 25 h disables it');
    const view = await app.request('GET', `/v1/tenants/${tenant.id}/webhooks/${hook.id}`, op);
    assert.match(view.json.disabledReason, /every call failed for 24 h; its events wait/);
    receiver.status = () => 200;
    const ok = await app.request('POST', `/v1/tenants/${tenant.id}/webhooks/${hook.id}/test`, op);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual([ok.json.ok, ok.json.status, ok.json.enabled], [true, 200, true]);
    const call = receiver.calls[receiver.calls.length - 1];
    assert.equal(JSON.parse(call.body).type, 'webhook.test');
    new Webhook(hook.secret).verify(call.body, call.headers as Record<string, string>);
  });

  test('a rotated secret signs from then on, and the old one no longer verifies', async () => {
    const hook = await subscribe(['certificate.expired']);
    const rotated = await app.request(
      'POST',
      `/v1/tenants/${tenant.id}/webhooks/${hook.id}/rotate-secret`,
      op,
    );
    assert.equal(rotated.status, 200, rotated.text);
    assert.notEqual(rotated.json.secret, hook.secret);
    await app.request('POST', `/v1/tenants/${tenant.id}/webhooks/${hook.id}/test`, op);
    const call = receiver.calls[receiver.calls.length - 1];
    new Webhook(rotated.json.secret).verify(call.body, call.headers as Record<string, string>);
    assert.throws(() =>
      new Webhook(hook.secret).verify(call.body, call.headers as Record<string, string>),
    );
    const list = await app.request('GET', `/v1/tenants/${tenant.id}/webhooks`, op);
    assert.doesNotMatch(list.text, /whsec_/);
  });
});

describe('webhook subscriptions are per tenant', () => {
  test('message.delivered only for those who ask; another tenant sees nothing', async () => {
    const hook = await subscribe(['message.delivered']);
    const pki = await createTestPki();
    await app.request('POST', `/v1/tenants/${tenant.id}/certificates`, {
      ...op,
      body: { pkcs12: pki.identities.rsa2048.p12!.toString('base64'), password: P12_PASSWORD },
    });
    const before = receiver.ofType('message.delivered').length;
    await send(3);
    const calls = await eventually(async () => {
      const c = receiver.ofType('message.delivered');
      return c.length > before ? c : undefined;
    });
    assert.equal(JSON.parse(calls[calls.length - 1].body).data.from, 'news@example.com');

    const other = await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Other' } });
    const key = await app.request('POST', `/v1/tenants/${other.json.id}/api-keys`, {
      ...op,
      body: {},
    });
    const asOther = { token: key.json.key as string };
    for (const [method, path] of [
      ['GET', `/v1/tenants/${tenant.id}/webhooks`],
      ['GET', `/v1/tenants/${tenant.id}/webhooks/${hook.id}`],
      ['POST', `/v1/tenants/${tenant.id}/webhooks/${hook.id}/test`],
      ['GET', `/v1/tenants/${other.json.id}/webhooks/${hook.id}`],
      ['GET', `/v1/tenants/${other.json.id}/webhooks/${hook.id}/deliveries`],
    ] as const) {
      const r = await app.request(method, path, asOther);
      assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
    }
    assert.doesNotMatch(app.logs.join('\n'), /whsec_/);
  });
});
