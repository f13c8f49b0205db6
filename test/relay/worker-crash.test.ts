/**
 * A worker process killed with SIGKILL in the middle of a batch, then started again: no
 * accepted message is lost. Duplicates can only come from messages the upstream had taken
 * but whose hand-over the killed worker had not yet noted; they are counted and reported,
 * with how long the killed worker's jobs waited (the default WORKER_LOCK_SECONDS).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import {
  allDelivered,
  eventually,
  seqOf,
  setupTenant,
  submitBatch,
  type RelayTenant,
} from '../support/relay';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';

const COUNT = 400;
const CONCURRENCY = 8;
let app: TestApp;
let sink: SmtpSink;
let tenant: RelayTenant;
const workers: WorkerProcess[] = [];

before(async () => {
  sink = await startSink();
  // This process takes SMTP submissions only; the worker runs in a child process.
  app = await startApp({}, { role: 'smtp' });
  tenant = await setupTenant(app, sink.port);
});
after(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await app?.close();
  await sink?.stop();
});

// The default lock: the figure reported is the one an operator gets.
const workerEnv = {
  WORKER_CONCURRENCY: String(CONCURRENCY),
  RECOVERY_INTERVAL_SECONDS: '1',
};

test('SIGKILL of a worker mid-batch loses nothing', async (t) => {
  const seqs = Array.from({ length: COUNT }, (_, i) => i);
  const ids = await submitBatch(app.smtpPort!, tenant, seqs, 4);
  // No worker yet: /metrics shows the whole batch waiting in the queue.
  const metrics = (await app.request('GET', '/metrics')).text;
  assert.match(metrics, new RegExp(`^smime_relay_queue_jobs\\{state="waiting"\\} ${COUNT}$`, 'm'));

  const first = await spawnWorker(app, workerEnv);
  workers.push(first);
  await first.ready;
  await eventually(
    async () => (sink.messages.length >= COUNT / 4 ? true : undefined),
    120_000,
    'a quarter delivered',
  );
  first.child.kill('SIGKILL');
  await first.exited;
  const killedAt = Date.now();
  const atKill = sink.messages.length;
  // The jobs the killed worker held, by message id (the job id), as batch numbers.
  const redis = new Redis(app.redisUrl);
  const held = (await redis.lrange(`${app.queuePrefix}:relay:active`, 0, -1)).map((id) =>
    ids.indexOf(id),
  );
  redis.disconnect();
  assert.ok(held.length > 0 && !held.includes(-1), `held jobs: ${held.join(', ')}`);
  assert.ok(atKill < COUNT, `the worker was killed mid-batch (${atKill} of ${COUNT} delivered)`);

  const second = await spawnWorker(app, workerEnv);
  workers.push(second);
  await second.ready;
  const readyAfter = Date.now() - killedAt;
  await sink.waitFor(COUNT, 180_000);
  await allDelivered(app, 60_000);

  const delivered = sink.messages.map((m) => seqOf(m.raw));
  const unique = new Set(delivered);
  const duplicates = delivered.length - unique.size;
  assert.deepEqual(
    [...unique].sort((a, b) => a - b),
    seqs,
    'every message delivered',
  );
  // Only messages in flight at the kill can be sent twice.
  assert.ok(duplicates <= held.length, `${duplicates} duplicates, more than were in flight`);
  const takenOver = Math.max(
    ...held.map((n) =>
      Math.max(...sink.messages.filter((m) => seqOf(m.raw) === n).map((m) => m.at)),
    ),
  );
  t.diagnostic(
    `killed after ${atKill} of ${COUNT} deliveries holding ${held.length} job(s); ` +
      `${duplicates} duplicate(s) after the restart; the held jobs delivered ` +
      `${takenOver - killedAt} ms after the kill (the restarted worker was ready after ${readyAfter} ms)`,
  );
});
