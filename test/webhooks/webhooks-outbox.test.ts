/**
 * Events are never lost: deliveries live in SQL (the outbox), not only in Redis, so a Redis
 * flush with events waiting loses none; a disabled subscription keeps its events and gets
 * them, in order, when enabled again; a short outage during a burst disables nothing and
 * loses nothing; one tenant's slow receiver does not hold up another tenant's events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Redis from 'ioredis';
import { startApp, type TestApp } from '../support/app';
import { eventually, op } from '../support/relay';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { recordEvent } from '../../src/events/event-log';

let app: TestApp;

before(async () => {
  app = await startApp({
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_INITIAL_SECONDS: '0.3',
    WEBHOOK_DISPATCH_INTERVAL_SECONDS: '0.2',
  });
});
after(() => app?.close());

async function tenantWithHook(
  receiver: WebhookReceiver,
): Promise<{ tenant: string; hook: string }> {
  const t = await app.request('POST', '/v1/tenants', { ...op, body: { name: 'Outbox' } });
  const h = await app.request('POST', `/v1/tenants/${t.json.id}/webhooks`, {
    ...op,
    body: { url: receiver.url, events: ['message.delivery_failed'] },
  });
  assert.equal(h.status, 201, h.text);
  return { tenant: t.json.id, hook: h.json.id };
}

/** Records `n` events for the tenant, a few ms apart; their ids in order. */
async function record(tenant: string, n: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(
      await recordEvent(app.db.session, tenant, 'message.delivery_failed', {
        messageId: `${label}-${i}`,
        from: 'news@example.com',
        recipients: ['reader@example.net'],
        error: { code: 'delivery_rejected', message: 'refused' },
      }),
    );
    await new Promise((r) => setTimeout(r, 5));
  }
  return ids;
}

/** The event ids the receiver acknowledged with 2xx, in the order it got them. */
const acknowledged = (r: WebhookReceiver, statusOf: (n: number) => number): string[] =>
  r.calls
    .map((c, n) => ({ id: String(c.headers['webhook-id']), ok: statusOf(n) < 300 }))
    .filter((c) => c.ok)
    .map((c) => c.id);

describe('the events outbox', { timeout: 120_000 }, () => {
  test('a Redis flush while events wait loses none of them', async () => {
    const receiver = await startReceiver();
    let down = true;
    const statuses: number[] = [];
    receiver.status = (n) => (statuses[n] = down ? 503 : 200);
    try {
      const { tenant } = await tenantWithHook(receiver);
      const ids = await record(tenant, 3, 'flush');
      await eventually(async () => (receiver.calls.length >= 3 ? true : undefined), 20_000, 'first tries');
      const redis = new Redis(app.redisUrl);
      await redis.flushdb();
      await redis.quit();
      down = false;
      await eventually(
        async () => (ids.every((id) => acknowledged(receiver, (n) => statuses[n]).includes(id)) ? true : undefined),
        30_000,
        'all three delivered after the flush',
      );
    } finally {
      await receiver.close();
    }
  }); // prettier-ignore

  test('a subscription disabled by 410 keeps its events and gets them in order when enabled', async () => {
    const receiver = await startReceiver();
    let gone = true;
    const statuses: number[] = [];
    receiver.status = (n) => (statuses[n] = gone ? 410 : 200);
    try {
      const { tenant, hook } = await tenantWithHook(receiver);
      const first = await record(tenant, 1, 'gone-first');
      await eventually(
        async () => {
          const v = await app.request('GET', `/v1/tenants/${tenant}/webhooks/${hook}`, op);
          return v.json.enabled === false ? true : undefined;
        },
        20_000,
        'disabled by 410',
      );
      const later = await record(tenant, 5, 'gone-later');
      await new Promise((r) => setTimeout(r, 1500));
      const [{ n }] = await app.db.session.query<{ n: string }>(
        "SELECT count(*) AS n FROM event_deliveries WHERE target_id = $1 AND state = 'pending'",
        [hook],
      );
      assert.equal(Number(n), 6, 'all six wait, none dropped');
      gone = false;
      const enabled = await app.request('PATCH', `/v1/tenants/${tenant}/webhooks/${hook}`, {
        ...op,
        body: { enabled: true },
      });
      assert.equal(enabled.status, 200, enabled.text);
      const expected = [...first, ...later];
      await eventually(
        async () => (acknowledged(receiver, (i) => statuses[i]).length === 6 ? true : undefined),
        30_000,
        'the six delivered',
      );
      assert.deepEqual(acknowledged(receiver, (i) => statuses[i]), expected, 'in the order they happened');
    } finally {
      await receiver.close();
    }
  }); // prettier-ignore

  test('a 6-second outage during 30 events disables nothing and loses nothing', async () => {
    const receiver = await startReceiver();
    const statuses: number[] = [];
    let downUntil = 0;
    receiver.status = (n) => (statuses[n] = Date.now() < downUntil ? 503 : 200);
    try {
      const { tenant, hook } = await tenantWithHook(receiver);
      downUntil = Date.now() + 6000;
      const ids = await record(tenant, 30, 'outage');
      await eventually(
        async () => {
          const got = new Set(acknowledged(receiver, (i) => statuses[i]));
          return ids.every((id) => got.has(id)) ? true : undefined;
        },
        60_000,
        'all 30 delivered',
      );
      const v = await app.request('GET', `/v1/tenants/${tenant}/webhooks/${hook}`, op);
      assert.equal(v.json.enabled, true);
      const acks = acknowledged(receiver, (i) => statuses[i]);
      assert.equal(acks.length, new Set(acks).size, 'each event acknowledged once');
      assert.ok(
        statuses.some((s) => s === 503),
        'the outage was seen',
      );
    } finally {
      await receiver.close();
    }
  });

  test("one tenant's slow receiver does not hold up another tenant's events", async () => {
    const slow = await startReceiver();
    const fast = await startReceiver();
    slow.delay = () => 10_000;
    try {
      const a = await tenantWithHook(slow);
      const b = await tenantWithHook(fast);
      await record(a.tenant, 20, 'slow'); // more than any pool of workers would have
      await eventually(
        async () => (slow.calls.length >= 1 ? true : undefined),
        10_000,
        'slow call',
      );
      const sentAt = Date.now();
      await record(b.tenant, 1, 'fast');
      await eventually(async () => (fast.calls.length >= 1 ? true : undefined), 8_000, 'fast call');
      assert.ok(fast.calls[0].at < slow.calls[0].at + 10_000, 'B arrived while A was in flight');
      assert.ok(fast.calls[0].at >= sentAt);
      assert.equal(slow.calls.length, 1, 'A gets one call at a time');
    } finally {
      await slow.close();
      await fast.close();
    }
  });
});
