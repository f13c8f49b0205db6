/**
 * Redis Sentinel: a master with two replicas and three sentinels (redis-server processes of
 * this test, quorum 2), the relay as one `smtp` process (this one) and two `worker`
 * processes finding the master through the sentinels. The master is killed with SIGKILL
 * mid-batch; the sentinels promote a replica and the relay follows. Every accepted message
 * must reach the upstream exactly once; the failover time and the longest pause in
 * deliveries are reported.
 */
import { after, before, test } from 'node:test';
import { startRedisSentinel, type RedisSentinelGroup } from '../helpers/redis-ha';
import { batchThroughFailover, startScaleOut, type ScaleOut } from '../support/scale-out';

let group: RedisSentinelGroup;
let relay: ScaleOut;

before(async () => {
  group = await startRedisSentinel({ replicas: 2, sentinels: 3, downAfterMs: 1000 });
  relay = await startScaleOut({
    // With sentinels REDIS_URL gives only the password and database.
    REDIS_URL: 'redis://127.0.0.1/0',
    REDIS_SENTINELS: group.sentinelList,
    REDIS_SENTINEL_NAME: group.name,
    RECOVERY_INTERVAL_SECONDS: '5',
    WORKER_CONCURRENCY: '16',
  });
});
after(async () => {
  await relay?.stop();
  await group?.stop();
});

test('Redis Sentinel: the master killed mid-batch, every message delivered exactly once', async (t) => {
  const line = await batchThroughFailover(relay, 2000, async () => {
    const master = await group.masterPort();
    await group.nodes.find((n) => n.port === master)!.kill();
    const promoted = await group.waitForFailover(master);
    return `the master :${master} killed (replica :${promoted} promoted)`;
  });
  t.diagnostic(line);
});
