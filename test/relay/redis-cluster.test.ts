/**
 * Scale-out on a real Redis Cluster: three masters with a replica each (redis-server
 * processes of this test), the relay as one `smtp` process (this one) and two `worker`
 * processes. 2,000 newsletters go through; in the middle the master that holds the queue's
 * slot is killed with SIGKILL and its replica takes over. Every accepted message must reach
 * the upstream exactly once; the failover time and the longest pause in deliveries are
 * reported.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-ha';
import { allDelivered, eventually, setupTenant, type RelayTenant } from '../support/relay';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';
import { deliveryReport, submitAll } from '../support/scale-out';

const COUNT = 2000;
let cluster: RedisCluster;
let app: TestApp;
let sink: SmtpSink;
let tenant: RelayTenant;
const workers: WorkerProcess[] = [];

const env = (): Record<string, string> => ({
  REDIS_URL: cluster.url,
  REDIS_CLUSTER: 'true',
  RECOVERY_INTERVAL_SECONDS: '5',
  WORKER_CONCURRENCY: '16',
});

before(async () => {
  cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1000 });
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
  await cluster?.stop();
});

test('Redis Cluster: a master killed mid-batch, every message delivered exactly once', async (t) => {
  const queueMaster = await cluster.masterOf(app.queuePrefix);
  const submitted = submitAll(app.smtpPort!, tenant, COUNT);

  await eventually(
    async () => (sink.messages.length >= COUNT / 3 ? true : undefined),
    180_000,
    'a third delivered',
  );
  const killedAt = Date.now();
  const atKill = sink.messages.length;
  await cluster.nodes.find((n) => n.port === queueMaster)!.kill();
  const newMaster = await cluster.waitForFailover(app.queuePrefix, queueMaster);
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
      `serving after ${failoverMs} ms; longest pause in deliveries after the kill ` +
      `${report.longestPauseMs} ms; last delivery ${report.lastAfterKillMs} ms after the kill; ` +
      `0 duplicates`,
  );
});
