/**
 * Redis for relay tests. `testRedis()` gives each test file its own key prefix and one of
 * the machine Redis's databases, so parallel runs do not collide. `startPrivateRedis()`
 * runs a redis-server of the test's own on a free loopback port, for tests that flush or
 * restart Redis (FLUSHALL there touches nobody else).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort } from './ports';

export const REDIS_BASE_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  url: string;
  prefix: string;
  /** Delete every key under the prefix. */
  cleanup(): Promise<void>;
}

export async function testRedis(): Promise<TestRedis> {
  const admin = new Redis(REDIS_BASE_URL, { maxRetriesPerRequest: 1 });
  // Databases 1–15 in turn; 0 is left to whatever else uses the machine's Redis.
  const db = 1 + ((await admin.incr('smime-relay-tests:next-db')) % 15);
  admin.disconnect();
  const prefix = `{srt-${randomBytes(5).toString('hex')}}`;
  const url = `${REDIS_BASE_URL}/${db}`;
  return {
    url,
    prefix,
    async cleanup() {
      const r = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          if (keys.length) await r.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        r.disconnect();
      }
    },
  };
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** A client of this server (reconnects after a restart). */
  client: Redis;
  /** Kill the server (SIGKILL: nothing is saved, as configured). */
  kill(): Promise<void>;
  /** Start it again on the same port, empty. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  client.on('error', () => undefined); // expected while the server is down
  const spawnServer = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        '/tmp',
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; ; i++) {
      try {
        if (client.status === 'wait' || client.status === 'end') await client.connect();
        await client.ping();
        return;
      } catch (e) {
        if (i > 50) throw new Error(`redis-server on port ${port} did not start`, { cause: e });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const kill = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await spawnServer();
  return {
    url,
    port,
    client,
    kill,
    start: spawnServer,
    async stop() {
      client.disconnect();
      await kill();
    },
  };
}
