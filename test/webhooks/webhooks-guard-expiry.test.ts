/**
 * The egress guard as the API applies it, certificate lifecycle events, and expiry notices
 * that fire once per threshold (driven by an injected clock), even with scans at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { eventually, op } from '../support/relay';
import { createTestPki, P12_PASSWORD } from '../helpers/pki';
import { ExpiryScan } from '../../src/webhooks/expiry-scan';

const DAY = 86_400_000;

describe('the egress guard (WEBHOOK_ALLOW_PRIVATE off)', () => {
  let app: TestApp;
  let tenantId: string;
  before(async () => {
    app = await startApp();
    tenantId = (await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Guarded' } })).json
      .id;
  });
  after(() => app.close());

  for (const url of [
    'http://127.0.0.1/',
    'http://10.0.0.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://localhost:8080/hook',
    'http://[::1]/',
    'ftp://example.com/',
  ]) {
    test(`refuses ${url}`, async () => {
      const r = await app.request('POST', `/v1/tenants/${tenantId}/webhooks`, {
        ...op,
        body: { url, events: ['message.delivery_failed'] },
      });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.code, 'invalid_request');
      const list = await app.request('GET', `/v1/tenants/${tenantId}/webhooks`, op);
      assert.deepEqual(list.json, []);
    });
  }

  test('refuses an unknown event type', async () => {
    const r = await app.request('POST', `/v1/tenants/${tenantId}/webhooks`, {
      ...op,
      body: { url: 'https://hooks.example.com/', events: ['message.exploded'] },
    });
    assert.equal(r.status, 400, r.text);
  });
});

describe('certificate events', () => {
  let app: TestApp;
  let receiver: WebhookReceiver;
  let tenantId: string;
  let certificate: { id: string; notAfter: string; fingerprintSha256: string };

  before(async () => {
    receiver = await startReceiver();
    app = await startApp({
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_DISPATCH_INTERVAL_SECONDS: '0.1',
    });
    tenantId = (await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Expiring' } }))
      .json.id;
    const hook = await app.request('POST', `/v1/tenants/${tenantId}/webhooks`, {
      ...op,
      body: {
        url: receiver.url,
        events: [
          'certificate.added',
          'certificate.expiring',
          'certificate.expired',
          'certificate.removed',
        ],
      },
    });
    assert.equal(hook.status, 201, hook.text);
    const pki = await createTestPki();
    const c = await app.request('POST', `/v1/tenants/${tenantId}/certificates`, {
      ...op,
      body: { pkcs12: pki.identities.rsa2048.p12!.toString('base64'), password: P12_PASSWORD },
    });
    assert.equal(c.status, 201, c.text);
    certificate = c.json;
  });
  after(async () => {
    await app?.close();
    await receiver?.close();
  });

  test('certificate.added carries the certificate, not its key', async () => {
    const [call] = await eventually(async () => {
      const c = receiver.ofType('certificate.added');
      return c.length ? c : undefined;
    });
    const event = JSON.parse(call.body);
    assert.equal(event.data.certificate.id, certificate.id);
    assert.equal(event.data.certificate.fingerprintSha256, certificate.fingerprintSha256);
    assert.deepEqual(event.data.certificate.emailAddresses, [
      'news@example.com',
      'info@example.com',
    ]);
    assert.doesNotMatch(call.body, /PRIVATE|sealed|BEGIN/);
  });

  test('each expiry threshold fires once, also with two scans at the same time', async () => {
    const scanner = app.nest.get(ExpiryScan);
    const notAfter = new Date(certificate.notAfter).getTime();
    const at = (daysBefore: number): Date => new Date(notAfter - daysBefore * DAY);

    assert.deepEqual(await scanner.scan(at(40)), [], 'nothing due 40 days ahead');
    const both = await Promise.all([scanner.scan(at(20)), scanner.scan(at(20))]);
    assert.deepEqual(
      both.flat().map((n) => n.notice),
      ['expiring-30'],
    );
    assert.deepEqual(await scanner.scan(at(19)), [], 'the 30-day notice is not sent again');
    assert.deepEqual(
      (await scanner.scan(at(10))).map((n) => n.notice),
      ['expiring-14'],
    );
    // Skipping a threshold sends only the nearest one.
    assert.deepEqual(
      (await scanner.scan(at(0.5))).map((n) => n.notice),
      ['expiring-1'],
    );
    assert.deepEqual(await scanner.scan(at(0.25)), []);
    assert.deepEqual(
      (await scanner.scan(at(-1))).map((n) => n.notice),
      ['expired'],
    );
    assert.deepEqual(await scanner.scan(at(-2)), []);

    const calls = await eventually(async () => {
      const expiring = receiver.ofType('certificate.expiring');
      const expired = receiver.ofType('certificate.expired');
      return expiring.length >= 3 && expired.length >= 1 ? [...expiring, ...expired] : undefined;
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(receiver.ofType('certificate.expiring').length, 3);
    assert.equal(receiver.ofType('certificate.expired').length, 1);
    const thresholds = calls
      .map((c) => JSON.parse(c.body).data)
      .filter((d) => d.thresholdDays !== undefined)
      .map((d) => d.thresholdDays)
      .sort((a, b) => b - a);
    assert.deepEqual(thresholds, [30, 14, 1]);
  });
});
