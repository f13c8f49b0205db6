/**
 * What the console searches and charts, through the API with real SMTP on loopback:
 * searching a tenant's messages by recipient, subject (encoded-words decoded), Message-ID
 * and date range; the refusals at SMTP intake with their codes and replies; and delivery
 * attempts per hour and day by outcome. A tenant key sees its own tenant only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import {
  eventually,
  op,
  QUICK_RETRIES,
  queuedId,
  setupTenant,
  submit,
  submitter,
  type RelayTenant,
} from '../support/relay';

const MAX_BYTES = 64 * 1024;

interface Mail {
  from?: string;
  subject: string;
  messageId: string;
  to?: string[];
  body?: string;
}

function mail(m: Mail): Buffer {
  return Buffer.from(
    [
      `From: Example News <${m.from ?? 'news@example.com'}>`,
      `To: ${(m.to ?? ['reader@example.net']).join(', ')}`,
      `Subject: ${m.subject}`,
      `Message-ID: <${m.messageId}>`,
      'Date: Mon, 06 Jan 2031 09:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      m.body ?? 'The text only subscribers read.',
      '',
    ].join('\r\n'),
  );
}

/** Every id the search returns, following nextCursor page by page. */
async function search(app: TestApp, tenantId: string, query: string, token = op.token) {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 20; pages++) {
    const r = await app.request(
      'GET',
      `/v1/tenants/${tenantId}/messages?limit=2&${query}${cursor ? `&cursor=${cursor}` : ''}`,
      { token },
    );
    assert.equal(r.status, 200, r.text);
    ids.push(...r.json.items.map((m: { id: string }) => m.id));
    cursor = r.json.nextCursor;
    if (!cursor) return ids;
  }
  throw new Error('more pages than expected');
}

describe('message search, refusals and activity', { timeout: 120_000 }, () => {
  let app: TestApp;
  let sink: SmtpSink;
  let tenant: RelayTenant;
  let other: RelayTenant;
  let otherKey: string;
  const ids: Record<string, string> = {};
  let between: { before: string; after: string };

  before(async () => {
    let deferOnce = true;
    sink = await startSink({
      // The first message marked "defer" is deferred once, so a retry shows in the charts.
      reply: (raw) => {
        if (deferOnce && raw.includes('Subject: defer me')) {
          deferOnce = false;
          return { code: 451, text: '4.3.2 not now' };
        }
        return undefined;
      },
    });
    app = await startApp({ ...QUICK_RETRIES, MAX_MESSAGE_BYTES: String(MAX_BYTES) });
    tenant = await setupTenant(app, sink.port);
    other = await setupTenant(app, sink.port);
    const key = await app.request('POST', `/v1/tenants/${other.id}/api-keys`, { ...op, body: {} });
    assert.equal(key.status, 201, key.text);
    otherKey = key.json.key;

    const client = submitter(app.smtpPort!, tenant, 1);
    const send = async (name: string, m: Mail, to = m.to ?? ['reader@example.net']) => {
      ids[name] = queuedId(await submit(client, mail(m), { from: 'bounces@example.com', to }));
    };
    try {
      await send('plain', { subject: 'Weekly news 1', messageId: 'plain-1@example.com' });
      await send('japanese', {
        subject: '=?UTF-8?B?5pel5pys6Kqe44Gu44GK55+l44KJ44Gb?=',
        messageId: 'ja-1@example.com',
        to: ['Tanaka@Example.JP'],
      });
      await new Promise((r) => setTimeout(r, 50));
      const mid = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 50));
      await send('percent', { subject: '100% off_today', messageId: 'percent@example.com' });
      await send('deferred', { subject: 'defer me', messageId: 'defer@example.com' });
      between = { before: mid, after: new Date(Date.now() + 60_000).toISOString() };
    } finally {
      client.close();
    }
    const otherClient = submitter(app.smtpPort!, other, 1);
    try {
      ids.other = queuedId(
        await submit(
          otherClient,
          mail({ subject: 'Weekly news 1', messageId: 'other@example.com' }),
        ),
      );
    } finally {
      otherClient.close();
    }
    await eventually(
      async () => {
        const [r] = await app.db.session.query<{ n: string }>(
          "SELECT count(*) AS n FROM messages WHERE state <> 'delivered'",
        );
        return Number(r.n) === 0 ? true : undefined;
      },
      30_000,
      'every message delivered',
    );
  });
  after(async () => {
    await app?.close();
    await sink?.stop();
  });

  test('search by part of a recipient, any case', async () => {
    assert.deepEqual(await search(app, tenant.id, 'recipient=tanaka%40example'), [ids.japanese]);
    assert.equal((await search(app, tenant.id, 'recipient=reader')).length, 3);
  });

  test('search by subject finds the decoded words; % and _ are only themselves', async () => {
    assert.deepEqual(await search(app, tenant.id, `subject=${encodeURIComponent('お知らせ')}`), [
      ids.japanese,
    ]);
    assert.deepEqual(await search(app, tenant.id, 'subject=100%25%20off_'), [ids.percent]);
    assert.deepEqual(await search(app, tenant.id, 'subject=%25'), [ids.percent]);
    assert.deepEqual(await search(app, tenant.id, 'subject=_'), [ids.percent]);
    const m = await app.request('GET', `/v1/tenants/${tenant.id}/messages/${ids.japanese}`, op);
    assert.equal(m.json.subject, '日本語のお知らせ');
    assert.equal(m.json.messageIdHeader, '<ja-1@example.com>');
  });

  test('search by Message-ID, with or without angle brackets', async () => {
    assert.deepEqual(await search(app, tenant.id, 'messageId=plain-1%40example.com'), [ids.plain]);
    assert.deepEqual(await search(app, tenant.id, 'messageId=%3Cplain-1%40example.com%3E'), [
      ids.plain,
    ]);
    assert.deepEqual(await search(app, tenant.id, 'messageId=plain-1'), []);
  });

  test('search by date range, page by page', async () => {
    const later = await search(app, tenant.id, `since=${between.before}`);
    assert.deepEqual(later.sort(), [ids.percent, ids.deferred].sort());
    const earlier = await search(app, tenant.id, `until=${between.before}`);
    assert.deepEqual(earlier.sort(), [ids.plain, ids.japanese].sort());
    assert.deepEqual(
      await search(app, tenant.id, `since=${between.before}&until=${between.after}&subject=defer`),
      [ids.deferred],
    );
    const bad = await app.request(
      'GET',
      `/v1/tenants/${tenant.id}/messages?since=${between.after}&until=${between.before}`,
      op,
    );
    assert.equal(bad.status, 400, bad.text);
    const notDate = await app.request(
      'GET',
      `/v1/tenants/${tenant.id}/messages?since=yesterday`,
      op,
    );
    assert.equal(notDate.status, 400, notDate.text);
  });

  test("a tenant key searches its own messages only, and finds nothing of another's", async () => {
    assert.deepEqual(await search(app, other.id, 'subject=Weekly', otherKey), [ids.other]);
    const theirs = await app.request('GET', `/v1/tenants/${tenant.id}/messages?subject=Weekly`, {
      token: otherKey,
    });
    assert.equal(theirs.status, 404);
  });

  test('refusals at SMTP intake are recorded with the code and the reply the client got', async () => {
    const client = submitter(app.smtpPort!, tenant, 1);
    const replies: string[] = [];
    try {
      for (const m of [
        mail({
          from: 'ceo@lookalike.example',
          subject: '=?UTF-8?B?6KuL5rGC5pu4?=',
          messageId: 'phish@lookalike.example',
        }),
        mail({ subject: 'Too big', messageId: 'big@example.com', body: 'x'.repeat(MAX_BYTES) }),
      ]) {
        await submit(client, m).then(
          () => assert.fail('the relay accepted a message it must refuse'),
          (e: { responseCode?: number; response?: string }) => replies.push(e.response ?? ''),
        );
      }
    } finally {
      client.close();
    }
    assert.match(replies[0], /^550 5\.7\.1 \[from_mismatch\]/);
    assert.match(replies[1], /^552 5\.3\.4 \[too_large\]/);
    const refusals = await eventually(
      async () => {
        const r = await app.request('GET', `/v1/tenants/${tenant.id}/refusals`, op);
        assert.equal(r.status, 200, r.text);
        return r.json.items.length >= 2 ? r.json.items : undefined;
      },
      10_000,
      'two refusals recorded',
    );
    const [big, phish] = refusals;
    assert.equal(phish.source, 'smtp');
    assert.equal(phish.code, 'from_mismatch');
    assert.equal(phish.reply, '550 5.7.1');
    assert.equal(phish.from, 'ceo@lookalike.example');
    assert.equal(phish.subject, '請求書');
    assert.equal(phish.messageIdHeader, '<phish@lookalike.example>');
    assert.deepEqual(phish.envelope, { from: 'bounces@example.com', to: ['reader@example.net'] });
    assert.match(phish.remoteAddress, /127\.0\.0\.1/);
    assert.equal(big.code, 'too_large');
    assert.equal(big.reply, '552 5.3.4');
    assert.equal(big.subject, 'Too big');
    assert.ok(big.size > MAX_BYTES, String(big.size));
    // Page by page with the cursor: the same two, newest first.
    const first = await app.request('GET', `/v1/tenants/${tenant.id}/refusals?limit=1`, op);
    const second = await app.request(
      'GET',
      `/v1/tenants/${tenant.id}/refusals?limit=1&cursor=${first.json.nextCursor}`,
      op,
    );
    assert.deepEqual(
      [...first.json.items, ...second.json.items].map((x: { id: string }) => x.id),
      [big.id, phish.id],
    );
    // No body is kept or shown.
    const all = await app.request('GET', '/v1/refusals', op);
    assert.ok(!all.text.includes('xxxxxxxx'));
    assert.ok(!all.text.includes('subscribers read'));
    // Filtered by code; the other tenant sees none of these.
    const onlyBig = await app.request(
      'GET',
      `/v1/tenants/${tenant.id}/refusals?code=too_large`,
      op,
    );
    assert.deepEqual(
      onlyBig.json.items.map((x: { id: string }) => x.id),
      [big.id],
    );
    const theirs = await app.request('GET', `/v1/tenants/${other.id}/refusals`, {
      token: otherKey,
    });
    assert.equal(theirs.status, 200);
    assert.deepEqual(theirs.json.items, []);
    assert.equal((await app.request('GET', '/v1/refusals', { token: otherKey })).status, 403);
    assert.equal(
      (await app.request('GET', `/v1/tenants/${tenant.id}/refusals`, { token: otherKey })).status,
      404,
    );
  });

  test('attempts per hour and per day by outcome, for a tenant and overall', async () => {
    const hours = await app.request('GET', `/v1/tenants/${tenant.id}/stats/messages`, op);
    assert.equal(hours.status, 200, hours.text);
    assert.equal(hours.json.interval, 'hour');
    assert.equal(hours.json.buckets.length, 48);
    // Four signed deliveries and one deferral of this tenant, all in the last bucket or two.
    assert.deepEqual(hours.json.totals, { signed: 4, unsigned: 0, failed: 0, retried: 1 });
    const sum = (b: { signed: number }[]) => b.reduce((n, x) => n + x.signed, 0);
    assert.equal(sum(hours.json.buckets), 4);
    assert.equal(hours.json.buckets.at(-1).at.slice(0, 13), new Date().toISOString().slice(0, 13));

    const days = await app.request(
      'GET',
      '/v1/stats/messages?interval=day&buckets=7&timeZone=Asia/Tokyo',
      op,
    );
    assert.equal(days.status, 200, days.text);
    assert.equal(days.json.buckets.length, 7);
    assert.equal(days.json.timeZone, 'Asia/Tokyo');
    assert.deepEqual(days.json.totals, { signed: 5, unsigned: 0, failed: 0, retried: 1 });
    const tokyoToday = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(
      new Date(),
    );
    assert.equal(days.json.buckets.at(-1).at, `${tokyoToday}T00:00`);

    const theirs = await app.request('GET', `/v1/tenants/${other.id}/stats/messages`, {
      token: otherKey,
    });
    assert.deepEqual(theirs.json.totals, { signed: 1, unsigned: 0, failed: 0, retried: 0 });
    assert.equal((await app.request('GET', '/v1/stats/messages', { token: otherKey })).status, 403);
    for (const q of ['interval=week', 'timeZone=Mars/Base', 'buckets=0']) {
      const r = await app.request('GET', `/v1/stats/messages?${q}`, op);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
    }
  });
});
