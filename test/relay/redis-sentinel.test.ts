/**
 * Redis Sentinel: a master with two replicas and three sentinels (redis-server processes of
 * this test, quorum 2), the relay as one `smtp` process (this one) and two `worker`
 * processes finding the master through the sentinels. The master is killed with SIGKILL
 * mid-batch; the sentinels promote a replica and the relay follows. Every accepted message
 * must reach the upstream exactly once; the failover time and the longest pause in
 * deliveries are reported.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { startRedisSentinel, type RedisSentinelGroup } from '../helpers/redis-ha';
import { allDelivered, eventually, setupTenant, type RelayTenant } from '../support/relay';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';
import { deliveryReport, submitAll } from '../support/scale-out';

const COUNT = 2000;
let group: RedisSentinelGroup;
let app: TestApp;
let sink: SmtpSink;
let tenant: RelayTenant;
const workers: WorkerProcess[] = [];

const env = (): Record<string, string> => ({
  // With sentinels REDIS_URL gives only the password and database.
  REDIS_URL: 'redis://127.0.0.1/0',
  REDIS_SENTINELS: group.sentinelList,
  REDIS_SENTINEL_NAME: group.name,
  RECOVERY_INTERVAL_SECONDS: '5',
  WORKER_CONCURRENCY: '16',
});

before(async () => {
  group = await startRedisSentinel({ replicas: 2, sentinels: 3, downAfterMs: 1000 });
  sink = await startSink();
  app = await startApp(env(), { role: 'smtp' });
  tenant = await setupTenant(app, sink.port);
  for (let i = 0; i < 2; i++) workers.push(await spawnWorker(app, env()));
  await Promise.all(workers.map((w) => w.ready));
});
after(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await app?.close();
  await sink?.stop();
  await group?.stop();
});

test('Redis Sentinel: the master killed mid-batch, every message delivered exactly once', async (t) => {
  const queueMaster = await group.masterPort();
  const submitted = submitAll(app.smtpPort!, tenant, COUNT);

  await eventually(
    async () => (sink.messages.length >= COUNT / 3 ? true : undefined),
    180_000,
    'a third delivered',
  );
  const killedAt = Date.now();
  const atKill = sink.messages.length;
  await group.nodes.find((n) => n.port === queueMaster)!.kill();
  const newMaster = await group.waitForFailover(queueMaster);
  const failoverMs = Date.now() - killedAt;

  const accepted = await submitted;
  await sink.waitFor(accepted.ids.length, 300_000);
  await allDelivered(app, 120_000);
  // Late duplicates would arrive after the last first delivery: give them a moment.
  await new Promise((r) => setTimeout(r, 3000));

  for (const w of workers) assert.equal(w.child.exitCode, null, `a worker exited:\n${w.output}`);
  const report = deliveryReport(sink, accepted.seqs, killedAt);
  assert.deepEqual(report.missing, [], 'every accepted message delivered');
  assert.deepEqual(report.duplicates, [], 'no message delivered twice');
  assert.ok(atKill < COUNT, 'the master was killed mid-batch');
  t.diagnostic(
    `${accepted.seqs.length} accepted (${accepted.refused} temporary refusals on the way: ${JSON.stringify(accepted.refusals)}), ` +
      `master :${queueMaster} killed after ${atKill} deliveries; replica :${newMaster} ` +
      `promoted after ${failoverMs} ms; longest pause in deliveries after the kill ` +
      `${report.longestPauseMs} ms; last delivery ${report.lastAfterKillMs} ms after the kill; ` +
      `0 duplicates`,
  );
});
