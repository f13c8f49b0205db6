/**
 * Scale-out on a real Redis Cluster: three masters with a replica each (redis-server
 * processes of this test), the relay as one `smtp` process (this one) and two `worker`
 * processes. 2,000 newsletters go through; in the middle the master that holds the queue's
 * slot is killed with SIGKILL and its replica takes over. Every accepted message must reach
 * the upstream exactly once; the failover time and the longest pause in deliveries are
 * reported.
 */
import { after, before, test } from 'node:test';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-ha';
import { batchThroughFailover, startScaleOut, type ScaleOut } from '../support/scale-out';

let cluster: RedisCluster;
let relay: ScaleOut;

before(async () => {
  cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1000 });
  relay = await startScaleOut({
    REDIS_URL: cluster.url,
    REDIS_CLUSTER: 'true',
    RECOVERY_INTERVAL_SECONDS: '5',
    WORKER_CONCURRENCY: '16',
  });
});
after(async () => {
  await relay?.stop();
  await cluster?.stop();
});

test('Redis Cluster: a master killed mid-batch, every message delivered exactly once', async (t) => {
  const line = await batchThroughFailover(relay, 2000, async () => {
    const slot = relay.app.queuePrefix;
    const master = await cluster.masterOf(slot);
    await cluster.nodes.find((n) => n.port === master)!.kill();
    const replica = await cluster.waitForFailover(slot, master);
    return `the queue's master :${master} killed (replica :${replica} now serves)`;
  });
  t.diagnostic(line);
});
