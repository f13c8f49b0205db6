/**
 * A worker process killed with SIGKILL in the middle of a batch, then started again: no
 * accepted message is lost. Duplicates can only come from messages the killed worker had
 * handed to the upstream but not yet recorded; they are counted and reported.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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

const workerEnv = {
  WORKER_CONCURRENCY: String(CONCURRENCY),
  WORKER_LOCK_SECONDS: '2',
  RECOVERY_INTERVAL_SECONDS: '1',
};

test('SIGKILL of a worker mid-batch loses nothing', async (t) => {
  const seqs = Array.from({ length: COUNT }, (_, i) => i);
  await submitBatch(app.smtpPort!, tenant, seqs, 4);
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
  const atKill = sink.messages.length;
  assert.ok(atKill < COUNT, `the worker was killed mid-batch (${atKill} of ${COUNT} delivered)`);

  const second = await spawnWorker(app, workerEnv);
  workers.push(second);
  await second.ready;
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
  assert.ok(duplicates <= CONCURRENCY, `${duplicates} duplicates, more than were in flight`);
  t.diagnostic(
    `killed after ${atKill} of ${COUNT} deliveries; ${duplicates} duplicate(s) after the restart`,
  );
});
