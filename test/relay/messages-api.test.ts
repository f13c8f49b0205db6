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
import { Recovery } from '../../src/relay/recovery';

/** Only the body holds this word; no API answer may contain it. */
const BODY_ONLY = 'BODYONLY';

/** A small newsletter from news@example.com; `marker` is in its Subject and body. */
function newsletter(marker: string): Buffer {
  return Buffer.from(
    [
      'From: Example News <news@example.com>',
      'To: reader@example.net',
      `Subject: Weekly news ${marker}`,
      'Date: Mon, 06 Jan 2031 09:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Issue ${marker}. ${BODY_ONLY}-${marker}: the text only subscribers read.`,
      '',
    ].join('\r\n'),
  );
}

const markerOf = (raw: Buffer): string =>
  /Subject: Weekly news (\S+)/.exec(raw.toString('latin1'))?.[1] ?? '';

/** How the scripted upstream answers; tests flip `fixed` to let refused messages through. */
interface Script {
  fixed: boolean;
}

/**
 * An upstream that refuses (550) messages marked "reject-…" until `script.fixed`, and defers
 * (451) those marked "defer-…" for ever; everything else is accepted.
 */
function scriptedSink(script: Script): Promise<SmtpSink> {
  return startSink({
    reply: (raw) => {
      const marker = markerOf(raw);
      if (marker.startsWith('reject-') && !script.fixed)
        return { code: 550, text: '5.1.1 mailbox unavailable' };
      if (marker.startsWith('defer-')) return { code: 451, text: '4.3.2 not now' };
      return undefined;
    },
  });
}

async function submitAll(app: TestApp, tenant: RelayTenant, markers: string[]) {
  const client = submitter(app.smtpPort!, tenant, 1);
  try {
    const ids: Record<string, string> = {};
    // One after another, so creation order is submission order.
    for (const m of markers) ids[m] = queuedId(await submit(client, newsletter(m)));
    return ids;
  } finally {
    client.close();
  }
}

/** Every API answer in this file, to check that none carries a message body. */
const answers: string[] = [];

async function api(app: TestApp, method: string, path: string, token = op.token) {
  const r = await app.request(method, path, { token });
  answers.push(r.text);
  return r;
}

const messagePath = (tenantId: string, id: string) => `/v1/tenants/${tenantId}/messages/${id}`;

const retry = (app: TestApp, tenantId: string, id: string, token?: string) =>
  api(app, 'POST', `${messagePath(tenantId, id)}/retry`, token);

function final(app: TestApp, tenantId: string, id: string, state?: string) {
  return eventually(
    async () => {
      const r = await api(app, 'GET', messagePath(tenantId, id));
      const done = state ? r.json.state === state : !['queued', 'retrying'].includes(r.json.state);
      return done ? r.json : undefined;
    },
    30_000,
    `message ${id} to be ${state ?? 'final'}`,
  );
}

/** Every id the list returns for `query`, following nextCursor page by page. */
async function pageAll(app: TestApp, tenantId: string, query: string, pageSize: number) {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const r = await api(
      app,
      'GET',
      `/v1/tenants/${tenantId}/messages?${query}&limit=${pageSize}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length <= pageSize);
    pages.push(r.json.items.map((m: { id: string }) => m.id));
    cursor = r.json.nextCursor;
  } while (cursor && pages.length < 10);
  return pages;
}

describe('message API', () => {
  const script: Script = { fixed: false };
  let app: TestApp;
  let sink: SmtpSink;
  let tenant: RelayTenant;
  let other: RelayTenant;
  let otherKey: string;
  let ids: Record<string, string>;

  before(async () => {
    sink = await scriptedSink(script);
    app = await startApp(QUICK_RETRIES);
    tenant = await setupTenant(app, sink.port);
    other = await setupTenant(app, sink.port);
    const key = await app.request('POST', `/v1/tenants/${other.id}/api-keys`, { ...op, body: {} });
    assert.equal(key.status, 201, key.text);
    otherKey = key.json.key;
    ids = await submitAll(app, tenant, ['ok-1', 'reject-1', 'ok-2', 'reject-2', 'ok-3']);
    for (const id of Object.values(ids)) await final(app, tenant.id, id);
    await submitAll(app, other, ['ok-other']);
  });
  after(async () => {
    await app?.close();
    await sink?.stop();
  });

  const list = (query: string, token?: string) =>
    api(app, 'GET', `/v1/tenants/${tenant.id}/messages${query}`, token);

  test('status= lists only messages in that state', async () => {
    for (const [status, prefix] of [
      ['delivered', 'ok-'],
      ['failed', 'reject-'],
      ['queued', 'none'],
    ]) {
      const r = await list(`?status=${status}`);
      assert.equal(r.status, 200, r.text);
      const expected = Object.keys(ids).filter((m) => m.startsWith(prefix));
      assert.deepEqual(
        r.json.items.map((m: { id: string; state: string }) => [m.id, m.state]).sort(),
        expected.map((m) => [ids[m], status]).sort(),
      );
    }
  });

  test('limit and cursor page through every message once, newest first', async () => {
    const pages = await pageAll(app, tenant.id, '', 2);
    assert.equal(pages.length, 3);
    const seen = pages.flat();
    assert.equal(new Set(seen).size, seen.length, 'no message twice');
    assert.deepEqual(seen, Object.values(ids).reverse(), 'no gaps, newest first');
    assert.deepEqual(await pageAll(app, tenant.id, 'status=failed', 1), [
      [ids['reject-2']],
      [ids['reject-1']],
    ]);
  });

  test('messages created within one millisecond are paged without gaps', async () => {
    // Submissions arriving together get timestamps a few microseconds apart.
    const burst = await setupTenant(app, sink.port);
    const burstIds = Object.values(await submitAll(app, burst, ['burst-1', 'burst-2', 'burst-3']));
    for (const [i, id] of burstIds.entries()) {
      await app.db.session.query(
        `UPDATE messages SET created_at = '2031-01-01T00:00:00.000100Z'::timestamptz
           + $2 * interval '1 microsecond' WHERE id = $1`,
        [id, i],
      );
    }
    const seen = (await pageAll(app, burst.id, '', 1)).flat();
    assert.deepEqual(seen, [...burstIds].reverse());
  });

  test('a bad status, limit or cursor is a 400 that names it', async () => {
    for (const [query, field] of [
      ['?status=lost', 'status'],
      ['?limit=0', 'limit'],
      ['?limit=201', 'limit'],
      ['?limit=ten', 'limit'],
      ['?cursor=not-a-cursor', 'cursor'],
    ]) {
      const r = await list(query);
      assert.equal(r.status, 400, `${query}: ${r.text}`);
      assert.equal(r.json.error.code, 'invalid_request');
      assert.match(r.json.error.message, new RegExp(field), query);
    }
  });

  test('one message shows its attempts and its last error', async () => {
    const failed = (await api(app, 'GET', messagePath(tenant.id, ids['reject-1']))).json;
    assert.equal(failed.state, 'failed');
    assert.equal(failed.attempts, 1);
    assert.equal(failed.lastError.code, 'delivery_rejected');
    assert.match(failed.lastError.message, /refused the message at DATA \(550\)/);
    assert.equal(failed.attemptLog.length, 1);
    assert.equal(failed.attemptLog[0].outcome, 'failed');
    assert.match(failed.attemptLog[0].reply, /^550 5\.1\.1 mailbox unavailable/);
    assert.equal(failed.subject, 'Weekly news reject-1');
    assert.equal(failed.bodyKept, true);

    const delivered = (await api(app, 'GET', messagePath(tenant.id, ids['ok-1']))).json;
    assert.equal(delivered.lastError, null);
    assert.deepEqual(
      delivered.attemptLog.map((a: { outcome: string }) => a.outcome),
      ['delivered'],
    );
    assert.match(delivered.providerMessageId, /^sink-/);
  });

  test("a tenant key gets 404 for another tenant's messages", async () => {
    const id = ids['ok-1'];
    for (const path of [
      messagePath(tenant.id, id),
      `/v1/tenants/${tenant.id}/messages`,
      messagePath(other.id, id),
    ]) {
      const r = await api(app, 'GET', path, otherKey);
      assert.equal(r.status, 404, `${path}: ${r.text}`);
      assert.equal(r.json.error.code, 'not_found');
    }
    assert.equal((await retry(app, other.id, ids['reject-1'], otherKey)).status, 404);
    const own = await api(app, 'GET', `/v1/tenants/${other.id}/messages`, otherKey);
    assert.equal(own.status, 200);
    assert.deepEqual(
      own.json.items.map((m: { subject: string }) => m.subject),
      ['Weekly news ok-other'],
    );
  });

  test('a failed message can be retried, and is delivered once the upstream takes it', async () => {
    script.fixed = true;
    const id = ids['reject-2'];
    const r = await retry(app, tenant.id, id);
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.json, { id, state: 'queued' });
    const m = await final(app, tenant.id, id, 'delivered');
    assert.equal(m.attempts, 2);
    assert.equal(m.lastError, null);
    assert.deepEqual(
      m.attemptLog.map((a: { outcome: string }) => a.outcome),
      ['failed', 'delivered'],
    );
    assert.equal(sink.messages.filter((s) => markerOf(s.raw) === 'reject-2').length, 1);
  });

  test('only a failed message can be retried', async () => {
    const delivered = await retry(app, tenant.id, ids['ok-2']);
    assert.equal(delivered.status, 400, delivered.text);
    assert.equal(delivered.json.error.code, 'invalid_request');
    const unknown = await retry(app, tenant.id, '00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.status, 404);
  });

  test('no answer carries a message body', () => {
    assert.ok(answers.length > 20, `${answers.length} answers checked`);
    for (const text of answers) {
      assert.ok(!text.includes(BODY_ONLY), `a body leaked: ${text.slice(0, 200)}`);
      assert.ok(!/"raw"/.test(text), 'no raw field');
    }
  });
});

describe('message API: retention', () => {
  let app: TestApp;
  let sink: SmtpSink;
  let tenant: RelayTenant;

  before(async () => {
    sink = await scriptedSink({ fixed: false });
    app = await startApp({ ...QUICK_RETRIES, RETENTION_DAYS: '0' });
    tenant = await setupTenant(app, sink.port);
  });
  after(async () => {
    await app?.close();
    await sink?.stop();
  });

  const rawOf = async (id: string) =>
    (
      await app.db.session.query<{ raw: Buffer | null; subject: string; size: number }>(
        'SELECT raw, subject, size FROM messages WHERE id = $1',
        [id],
      )
    )[0];

  test('a finished message loses its body but keeps its record; an unfinished one keeps both', async () => {
    const ids = await submitAll(app, tenant, ['kept-1', 'reject-gone', 'defer-waiting']);
    await final(app, tenant.id, ids['kept-1'], 'delivered');
    await final(app, tenant.id, ids['reject-gone'], 'failed');
    await final(app, tenant.id, ids['defer-waiting'], 'retrying');
    await app.nest.get(Recovery).pass();

    for (const marker of ['kept-1', 'reject-gone']) {
      const row = await rawOf(ids[marker]);
      assert.equal(row.raw, null, `${marker} body dropped`);
      assert.equal(row.subject, `Weekly news ${marker}`);
      assert.ok(row.size > 0);
      const m = (await api(app, 'GET', messagePath(tenant.id, ids[marker]))).json;
      assert.equal(m.bodyKept, false);
      assert.equal(m.subject, `Weekly news ${marker}`);
      assert.ok(m.attemptLog.length >= 1, 'the attempt log stays');
    }
    const waiting = await rawOf(ids['defer-waiting']);
    assert.ok(waiting.raw && waiting.raw.length === waiting.size, 'an unfinished body stays');

    const refused = await retry(app, tenant.id, ids['reject-gone']);
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json.error.code, 'invalid_request');
    assert.match(refused.json.error.message, /retention/);
    const after = (await api(app, 'GET', messagePath(tenant.id, ids['reject-gone']))).json;
    assert.equal(after.state, 'failed', 'a refused retry leaves the message failed');
  });
});
