/**
 * Who kept the CPUs busy while a flow ran: the bench process (clients and sink), the relay
 * child, the PostgreSQL backends of the relay's database, redis-server, and everything else
 * (Linux /proc; the parts that cannot be read are left out).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { machineBusyUs, ownCpuUs } from './measure';
import type { CpuShares } from './relay-types';

let ticksPerSecond = 100;
try {
  ticksPerSecond =
    Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || ticksPerSecond;
} catch {
  // not POSIX: the usual 100 Hz
}

/** User + system CPU of a running process, all its threads, µs; undefined when unreadable. */
export function processCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the parenthesised command name start at field 3; utime and stime are 14, 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / ticksPerSecond : undefined;
  } catch {
    return undefined;
  }
}

/** used_cpu_user + used_cpu_sys of INFO cpu, µs. */
export function redisCpuUs(info: string): number | undefined {
  const read = (name: string): number =>
    Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN);
  const seconds = read('used_cpu_user') + read('used_cpu_sys');
  return Number.isFinite(seconds) ? seconds * 1e6 : undefined;
}

export interface CpuSnapshot {
  at: number;
  bench: number;
  relay?: number;
  /** CPU µs of each backend process of the database. */
  postgres?: Map<number, number>;
  redis?: number;
  machine?: number;
}

export interface CpuSources {
  relayPid: number;
  /** A pool on the relay's database: its backends are the ones counted. */
  db: Pool;
  redis: Redis;
}

export async function cpuSnapshot(s: CpuSources): Promise<CpuSnapshot> {
  let postgres: Map<number, number> | undefined;
  try {
    const { rows } = await s.db.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
    );
    postgres = new Map();
    for (const { pid } of rows) {
      const us = processCpuUs(pid);
      if (us !== undefined) postgres.set(pid, us);
    }
    if (postgres.size === 0) postgres = undefined; // another host, or /proc not readable
  } catch {
    postgres = undefined;
  }
  let redis: number | undefined;
  try {
    redis = redisCpuUs(await s.redis.info('cpu'));
  } catch {
    redis = undefined;
  }
  return {
    at: performance.now(),
    bench: ownCpuUs(),
    relay: processCpuUs(s.relayPid),
    postgres,
    redis,
    machine: machineBusyUs(),
  };
}

/** Average cores per party between two snapshots; `delivered` divides the relay's CPU. */
export function cpuShares(a: CpuSnapshot, b: CpuSnapshot, delivered: number): CpuShares {
  const wallUs = Math.max(1, (b.at - a.at) * 1000);
  const diff = (x?: number, y?: number): number | undefined =>
    x === undefined || y === undefined ? undefined : Math.max(0, y - x);
  const bench = b.bench - a.bench;
  const relay = diff(a.relay, b.relay) ?? 0;
  let postgres: number | undefined;
  if (a.postgres && b.postgres) {
    postgres = 0;
    // A backend that started meanwhile counts from zero; one that ended is lost (rare).
    for (const [pid, us] of b.postgres) postgres += Math.max(0, us - (a.postgres.get(pid) ?? 0));
  }
  const redis = diff(a.redis, b.redis);
  const machine = diff(a.machine, b.machine);
  const known = bench + relay + (postgres ?? 0) + (redis ?? 0);
  return {
    bench: bench / wallUs,
    relay: relay / wallUs,
    postgres: postgres === undefined ? undefined : postgres / wallUs,
    redis: redis === undefined ? undefined : redis / wallUs,
    other: machine === undefined ? undefined : Math.max(0, machine - known) / wallUs,
    relayUsPerMessage: delivered > 0 ? relay / delivered : NaN,
  };
}
