/**
 * One flow of the relay benchmark: `count` newsletters submitted over `connections` SMTP
 * connections (a closed loop: each connection sends its next message when the previous one
 * got its reply), then waiting until the sink has every accepted message or nothing has
 * arrived for a while. flowSummary() turns what was recorded into the reported figures.
 */
import { performance } from 'node:perf_hooks';
import { createTransport } from 'nodemailer';
import { cpuShares, cpuSnapshot, type CpuSources } from './relay-cpu';
import { SEQ_HEADER, type BenchSink } from './relay-sink';
import type { FlowArrivals, FlowName, FlowRecord, FlowResult, LatencySummary } from './relay-types';

/** A personal token (10 letters and digits) in place of each "3Dnewsletter" of the links. */
const LINK_PARAMETER = /3Dnewsletter/g;

/** Message `n` of a flow: the newsletter with its X-Bench-Seq header first. */
export function benchMessage(base: string, tag: string, n: number, distinct: boolean): Buffer {
  let body = base;
  if (distinct) {
    const token = `3D${n.toString(36).padStart(10, '0')}`;
    body = base.replace(LINK_PARAMETER, token);
    if (body === base) throw new Error('the newsletter has no link parameter to personalise');
  }
  return Buffer.from(`${SEQ_HEADER}: ${tag}-${n}\r\n${body}`, 'latin1');
}

export interface FlowSpec {
  flow: FlowName;
  warmup: boolean;
  tag: string;
  count: number;
  connections: number;
  smtpPort: number;
  credentials: { username: string; password: string };
  /** The newsletter, latin1. */
  base: string;
  distinctBodies: boolean;
  sink: BenchSink;
  cpu: CpuSources;
  /** Stop waiting after this long without a new arrival. */
  stallMs: number;
  log: (text: string) => void;
}

const QUEUED = /queued as ([0-9a-f-]{36})/;

export async function runFlow(s: FlowSpec): Promise<FlowRecord> {
  const acceptedAt = new Map<number, number>();
  const messageIds = new Map<number, string>();
  const rejections = new Map<string, number>();
  const clients = Array.from({ length: s.connections }, () =>
    createTransport({
      host: '127.0.0.1',
      port: s.smtpPort,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 1,
      maxMessages: Infinity,
      auth: { user: s.credentials.username, pass: s.credentials.password },
    }),
  );
  const label = `${s.flow}${s.warmup ? ' warm-up' : ''}`;
  let next = 0;
  let done = 0;
  const before = await cpuSnapshot(s.cpu);
  const startedAt = performance.now();
  let lastCount = 0;
  const progress = setInterval(() => {
    const count = s.sink.count(s.tag);
    s.log(
      `  [${label}] submitted ${done}/${s.count}, accepted ${acceptedAt.size}, ` +
        `delivered ${count} (${Math.round((count - lastCount) / 3)}/s)\n`,
    );
    lastCount = count;
  }, 3000);
  progress.unref();

  const worker = async (client: (typeof clients)[number]): Promise<void> => {
    while (next < s.count) {
      const n = next++;
      const raw = benchMessage(s.base, s.tag, n, s.distinctBodies);
      const envelope = { from: 'bounces@example.com', to: [`reader-${n}@example.net`] };
      try {
        const info = await client.sendMail({ envelope, raw });
        const reply = String(info.response ?? '');
        const id = QUEUED.exec(reply)?.[1];
        acceptedAt.set(n, performance.now());
        if (id) messageIds.set(n, id);
      } catch (e) {
        const text = (e as Error).message.slice(0, 200);
        rejections.set(text, (rejections.get(text) ?? 0) + 1);
      }
      done++;
    }
  };
  try {
    await Promise.all(clients.map(worker));
  } finally {
    for (const c of clients) c.close();
  }

  // Wait for every accepted message, or until nothing has arrived for stallMs.
  const arrivals = s.sink.arrivals(s.tag);
  let seen = arrivals.times.size;
  let progressAt = performance.now();
  while (![...acceptedAt.keys()].every((n) => arrivals.times.has(n))) {
    await new Promise((r) => setTimeout(r, 50));
    if (arrivals.times.size !== seen) {
      seen = arrivals.times.size;
      progressAt = performance.now();
    } else if (performance.now() - progressAt > s.stallMs) {
      s.log(`  [${label}] nothing arrived for ${s.stallMs / 1000} s; stopped waiting\n`);
      break;
    }
  }
  const endedAt = performance.now();
  const after = await cpuSnapshot(s.cpu);
  clearInterval(progress);
  return {
    flow: s.flow,
    warmup: s.warmup,
    tag: s.tag,
    sent: s.count,
    acceptedAt,
    messageIds,
    rejections,
    startedAt,
    endedAt,
    cpu: cpuShares(before, after, arrivals.times.size),
  };
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The reported figures of a flow, from its record and what the sink saw of it. */
export function flowSummary(
  r: FlowRecord,
  arrived: FlowArrivals,
  extra: { relayStates: Record<string, number>; check: string },
): FlowResult {
  const latencies: number[] = [];
  let lastDelivered = -Infinity;
  let duplicates = 0;
  let unexpected = 0;
  for (const [n, times] of arrived.times) {
    duplicates += times.length - 1;
    const accepted = r.acceptedAt.get(n);
    if (accepted === undefined) {
      unexpected += times.length;
      continue;
    }
    const first = Math.min(...times);
    latencies.push(first - accepted);
    lastDelivered = Math.max(lastDelivered, first);
  }
  latencies.sort((a, b) => a - b);
  const accepted = [...r.acceptedAt.values()];
  const firstAccepted = Math.min(...accepted);
  const lastAccepted = Math.max(...accepted);
  const delivered = latencies.length;
  const perSecond = (count: number, from: number, to: number): number | undefined =>
    count > 1 && to > from ? (count * 1000) / (to - from) : undefined;
  const latencyMs: LatencySummary | undefined = delivered
    ? { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1)! }
    : undefined;
  const rejections = [...r.rejections]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([text, count]) => `${count} × ${text}`);
  return {
    flow: r.flow,
    warmup: r.warmup,
    sent: r.sent,
    accepted: r.acceptedAt.size,
    rejected: r.sent - r.acceptedAt.size,
    rejections,
    delivered,
    duplicates,
    missing: r.acceptedAt.size - delivered,
    unexpected,
    signedArrivals: arrived.signed,
    intakePerSec: perSecond(accepted.length, firstAccepted, lastAccepted),
    perSec: perSecond(delivered, firstAccepted, lastDelivered),
    latencyMs,
    elapsedMs: r.endedAt - r.startedAt,
    cpu: r.cpu,
    relayStates: extra.relayStates,
    check: extra.check,
  };
}
