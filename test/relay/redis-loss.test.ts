/**
 * Redis only schedules work; the spool is the truth. After FLUSHALL in the middle of a
 * batch, and after Redis was down while mail was accepted, recovery queues every unfinished
 * message again and none is lost. Each test runs a redis-server of its own.
 */
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import {
  allDelivered,
  eventually,
  queuedId,
  seqOf,
  setupTenant,
  submit,
  submitBatch,
  submitter,
  personalisedNewsletter,
} from '../support/relay';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis';

let app: TestApp | undefined;
let sink: SmtpSink | undefined;
let redis: PrivateRedis | undefined;

afterEach(async () => {
  await app?.close();
  await sink?.stop();
  await redis?.stop();
  app = sink = redis = undefined;
});
after(() => undefined);

async function relayOnPrivateRedis(env: Record<string, string> = {}): Promise<{
  app: TestApp;
  sink: SmtpSink;
  redis: PrivateRedis;
}> {
  redis = await startPrivateRedis();
  sink = await startSink();
  app = await startApp({
    REDIS_URL: redis.url,
    RECOVERY_INTERVAL_SECONDS: '1',
    WORKER_LOCK_SECONDS: '2',
    WORKER_CONCURRENCY: '4',
    ...env,
  });
  return { app, sink, redis };
}

test('FLUSHALL mid-batch: recovery queues the rest again, none is lost', async (t) => {
  const { app, sink, redis } = await relayOnPrivateRedis();
  const tenant = await setupTenant(app, sink.port);
  const COUNT = 300;
  const seqs = Array.from({ length: COUNT }, (_, i) => i);
  // Slow the upstream a little so the flush lands while most of the batch waits in Redis.
  const submitted = submitBatch(app.smtpPort!, tenant, seqs, 4);
  await eventually(
    async () => (sink.messages.length >= 30 ? true : undefined),
    60_000,
    'first deliveries',
  );
  assert.equal(await redis.client.flushall(), 'OK');
  const atFlush = sink.messages.length;
  await submitted;
  await sink.waitFor(COUNT, 120_000);
  await allDelivered(app);
  const delivered = sink.messages.map((m) => seqOf(m.raw));
  assert.deepEqual(
    [...new Set(delivered)].sort((a, b) => a - b),
    seqs,
    'every message delivered',
  );
  assert.equal(delivered.length, COUNT, 'nothing delivered twice');
  assert.ok(atFlush < COUNT, `flushed mid-batch (${atFlush} of ${COUNT} delivered)`);
  t.diagnostic(`FLUSHALL after ${atFlush} of ${COUNT} deliveries; all delivered once`);
});

test('Redis down at intake: mail is still accepted once committed, and delivered when Redis is back', async () => {
  const { app, sink, redis } = await relayOnPrivateRedis();
  const tenant = await setupTenant(app, sink.port);
  await redis.kill();
  const client = submitter(app.smtpPort!, tenant, 1);
  const ids: string[] = [];
  try {
    for (let n = 0; n < 3; n++) ids.push(queuedId(await submit(client, personalisedNewsletter(n))));
  } finally {
    client.close();
  }
  const [stored] = await app.db.session.query<{ n: string }>(
    'SELECT count(*) AS n FROM messages WHERE id = ANY($1)',
    [ids],
  );
  assert.equal(Number(stored.n), 3, 'each 250 had its row committed');
  assert.equal(sink.messages.length, 0);
  await redis.start();
  await sink.waitFor(3, 60_000);
  await allDelivered(app);
  assert.deepEqual(sink.messages.map((m) => seqOf(m.raw)).sort(), [0, 1, 2]);
});

test('Redis back after an outage: recovery runs at once, and the outage is one line each way', async (t) => {
  // Recovery's own pass would come only after ten minutes: what is delivered comes from
  // the pass that Redis answering again starts.
  const { app, sink, redis } = await relayOnPrivateRedis({ RECOVERY_INTERVAL_SECONDS: '600' });
  const tenant = await setupTenant(app, sink.port);
  await redis.kill();
  const COUNT = 40;
  const ids = await submitBatch(
    app.smtpPort!,
    tenant,
    Array.from({ length: COUNT }, (_, i) => i),
    2,
  );
  assert.equal(sink.messages.length, 0);
  const backAt = Date.now();
  await redis.start();
  await sink.waitFor(COUNT, 60_000);
  await allDelivered(app);
  const afterMs = Date.now() - backAt;
  const lines = app.logs.filter((l) => l.startsWith('RelayQueue'));
  assert.equal(
    lines.filter((l) => l.includes('Redis does not answer')).length,
    1,
    lines.join('\n'),
  );
  assert.equal(
    lines.filter((l) => l.includes('Redis answers again after')).length,
    1,
    lines.join('\n'),
  );
  const perMessage = app.logs.filter((l) => ids.some((id) => l.includes(id)));
  assert.deepEqual(perMessage, [], 'no log line per message');
  t.diagnostic(
    `${COUNT} accepted while Redis was down, all delivered ${afterMs} ms after it came back`,
  );
});
