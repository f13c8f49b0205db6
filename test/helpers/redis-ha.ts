/**
 * Redis Cluster and Redis Sentinel of a test's own: real `redis-server` processes on free
 * loopback ports, nothing saved to disk, so a test can SIGKILL a master and watch a replica
 * take over. Sentinels are `redis-server --sentinel` (the same binary Debian's
 * `redis-sentinel` package links to).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports';

export interface RedisNode {
  port: number;
  child: ChildProcess;
  /** SIGKILL: the server is gone at once, with whatever it had not replicated. */
  kill(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startNode(port: number, args: string[], dir: string): RedisNode {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  const log: string[] = [];
  child.stdout!.on('data', (b: Buffer) => log.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    port,
    child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** One command to one node, on a short-lived connection. */
async function ask(port: number, ...command: (string | number)[]): Promise<unknown> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await r.call(String(command[0]), ...command.slice(1).map(String));
  } finally {
    r.disconnect();
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const PLAIN = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];

export interface RedisCluster {
  /** Every node, masters first as created (ports[0..masters-1]). */
  nodes: RedisNode[];
  /** A node to name in REDIS_URL; the client discovers the rest. */
  url: string;
  /** The port of the master now serving the slot of `key` (a hash tag works). */
  masterOf(key: string): Promise<number>;
  /** Wait until a live node other than `oldPort` serves `key`'s slot and the cluster is ok. */
  waitForFailover(key: string, oldPort: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * `masters` masters with `replicas` replicas each, made with `redis-cli --cluster create`.
 * `nodeTimeoutMs` is cluster-node-timeout: how long a master may be silent before its
 * replica is promoted.
 */
export async function startRedisCluster(
  opts: { masters?: number; replicas?: number; nodeTimeoutMs?: number } = {},
): Promise<RedisCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicas ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const nodes: RedisNode[] = [];
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const port = await freePort();
    nodes.push(
      startNode(
        port,
        [
          '--port',
          String(port),
          ...PLAIN,
          '--dir',
          dir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          String(opts.nodeTimeoutMs ?? 1000),
        ],
        dir,
      ),
    );
  }
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const n of nodes) await until(`redis node ${n.port}`, 10_000, () => ask(n.port, 'PING'));
    const created = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (created.status !== 0) {
      throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`);
    }
    for (const n of nodes) {
      await until(`cluster state ok on ${n.port}`, 30_000, async () =>
        String(await ask(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')
          ? true
          : undefined,
      );
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const alive = () => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  const masterOf = async (key: string, asking = alive()[0].port): Promise<number> => {
    const slot = Number(await ask(asking, 'CLUSTER', 'KEYSLOT', key));
    const ranges = (await ask(asking, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    return Number(range[2][1]);
  };
  return {
    nodes,
    url: `redis://127.0.0.1:${nodes[0].port}`,
    masterOf: (key) => masterOf(key),
    async waitForFailover(key, oldPort, timeoutMs = 30_000) {
      return until(`a replica to take over from ${oldPort}`, timeoutMs, async () => {
        for (const n of alive()) {
          const info = String(await ask(n.port, 'CLUSTER', 'INFO'));
          if (!info.includes('cluster_state:ok')) return undefined;
        }
        const port = await masterOf(key);
        return port !== oldPort && alive().some((n) => n.port === port) ? port : undefined;
      });
    },
    stop,
  };
}

export interface RedisSentinelGroup {
  /** The data nodes: [0] is the first master, the rest its replicas. */
  nodes: RedisNode[];
  sentinels: RedisNode[];
  /** REDIS_SENTINELS for the relay. */
  sentinelList: string;
  name: string;
  /** The master's port as the sentinels report it. */
  masterPort(): Promise<number>;
  /** Wait until the sentinels name a live master other than `oldPort`. */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/** A master, `replicas` replicas and `sentinels` sentinels with quorum ⌊n/2⌋+1. */
export async function startRedisSentinel(
  opts: { replicas?: number; sentinels?: number; downAfterMs?: number } = {},
): Promise<RedisSentinelGroup> {
  const name = 'relaymaster';
  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
  const nodes: RedisNode[] = [];
  const sentinels: RedisNode[] = [];
  const stop = async () => {
    await Promise.all([...sentinels, ...nodes].map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const masterPort = await freePort();
    nodes.push(startNode(masterPort, ['--port', String(masterPort), ...PLAIN, '--dir', dir], dir));
    for (let i = 0; i < (opts.replicas ?? 2); i++) {
      const port = await freePort();
      const args = ['--port', String(port), ...PLAIN, '--dir', dir];
      nodes.push(startNode(port, [...args, '--replicaof', '127.0.0.1', String(masterPort)], dir));
    }
    for (const n of nodes) await until(`redis node ${n.port}`, 10_000, () => ask(n.port, 'PING'));
    await until('replicas in sync', 20_000, async () => {
      const info = String(await ask(masterPort, 'INFO', 'replication'));
      return info.includes(`connected_slaves:${nodes.length - 1}`) ? true : undefined;
    });
    const count = opts.sentinels ?? 3;
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its configuration file as the group changes, so it must be writable.
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'protected-mode no',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${Math.floor(count / 2) + 1}`,
          `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      sentinels.push(startNode(port, [conf, '--sentinel'], dir));
    }
    for (const s of sentinels) {
      await until(`sentinel ${s.port} to see the group`, 20_000, async () => {
        const seen = (await ask(s.port, 'SENTINEL', 'SENTINELS', name)) as unknown[];
        return seen.length === count - 1 ? true : undefined;
      });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const masterPort = async (): Promise<number> => {
    for (const s of sentinels) {
      if (s.child.exitCode !== null) continue;
      const addr = (await ask(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as string[];
      return Number(addr[1]);
    }
    throw new Error('no sentinel answers');
  };
  return {
    nodes,
    sentinels,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    name,
    masterPort,
    async waitForFailover(oldPort, timeoutMs = 30_000) {
      return until(`the sentinels to promote a replica of ${oldPort}`, timeoutMs, async () => {
        const port = await masterPort();
        if (port === oldPort) return undefined;
        const role = String(await ask(port, 'ROLE'));
        return role.startsWith('master') ? port : undefined;
      });
    },
    stop,
  };
}
