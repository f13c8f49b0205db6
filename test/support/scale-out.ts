/**
 * Fault tests of the scaled-out relay: one `smtp` process (the test's own) and two `worker`
 * processes, a sender that behaves like a marketing platform (a 4xx reply means "try again
 * later", so it retries) and the sink's account of what arrived.
 */
import assert from 'node:assert/strict';
import type { Transporter } from 'nodemailer';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { startApp, type TestApp } from './app';
import {
  allDelivered,
  eventually,
  personalisedNewsletter,
  queuedId,
  seqOf,
  setupTenant,
  submit,
  submitter,
  type RelayTenant,
} from './relay';
import { spawnWorker, type WorkerProcess } from './worker-process';

export interface ScaleOut {
  app: TestApp;
  sink: SmtpSink;
  tenant: RelayTenant;
  workers: WorkerProcess[];
  stop(): Promise<void>;
}

/** This process as the `smtp` role and two `worker` processes, all with `env`. */
export async function startScaleOut(
  env: Record<string, string>,
  options: { databaseUrl?: string } = {},
): Promise<ScaleOut> {
  const sink = await startSink();
  const app = await startApp(env, { role: 'smtp', databaseUrl: options.databaseUrl });
  const tenant = await setupTenant(app, sink.port);
  const workers: WorkerProcess[] = [];
  for (let i = 0; i < 2; i++) workers.push(await spawnWorker(app, env));
  await Promise.all(workers.map((w) => w.ready));
  return {
    app,
    sink,
    tenant,
    workers,
    async stop() {
      for (const w of workers) w.child.kill('SIGKILL');
      await app.close().catch(() => undefined);
      await sink.stop();
    },
  };
}

/**
 * `count` newsletters through the relay; once a third has arrived, `fail` breaks something
 * and resolves (with a description) when the standby has taken over. Every accepted message
 * must then arrive exactly once, with both workers still running. Returns the line to report.
 */
export async function batchThroughFailover(
  s: ScaleOut,
  count: number,
  fail: () => Promise<string>,
): Promise<string> {
  const submitted = submitAll(s.app.smtpPort!, s.tenant, count);
  await eventually(
    async () => (s.sink.messages.length >= count / 3 ? true : undefined),
    180_000,
    'a third delivered',
  );
  const brokenAt = Date.now();
  const atBreak = s.sink.messages.length;
  const what = await fail();
  const takeoverMs = Date.now() - brokenAt;
  const accepted = await submitted;
  await s.sink.waitFor(accepted.ids.length, 300_000);
  await allDelivered(s.app, 120_000);
  // Late duplicates would arrive after the last first delivery: give them a moment.
  await new Promise((r) => setTimeout(r, 3000));
  for (const w of s.workers) {
    assert.equal(w.child.exitCode, null, `a worker exited:\n${w.output.join('')}`);
  }
  const report = deliveryReport(s.sink, accepted.seqs, brokenAt);
  assert.deepEqual(report.missing, [], 'every accepted message delivered');
  assert.deepEqual(report.duplicates, [], 'no message delivered twice');
  assert.ok(atBreak < count, 'broken mid-batch');
  return (
    `${accepted.seqs.length} accepted (temporary refusals on the way: ` +
    `${JSON.stringify(accepted.refusals)}); ${what} after ${atBreak} deliveries, taken over ` +
    `${takeoverMs} ms later; longest pause in deliveries ${report.longestPauseMs} ms; last ` +
    `delivery ${report.lastAfterKillMs} ms after the kill; 0 lost, 0 duplicates`
  );
}

export interface Submitted {
  /** Relay message ids, one per accepted message. */
  ids: string[];
  /** The X-Seq numbers accepted (every one asked for, once its retries succeeded). */
  seqs: number[];
  /** Temporary refusals met on the way, by reply code (e.g. { 451: 37 }). */
  refusals: Record<number, number>;
  refused: number;
}

/**
 * Submit newsletters first..first+count-1 over `connections` connections. A 4xx reply or a dropped
 * connection is retried after `retryMs`, as a platform's sending queue does; a 5xx fails.
 */
export async function submitAll(
  port: number,
  tenant: Pick<RelayTenant, 'username' | 'password'>,
  count: number,
  opts: {
    first?: number;
    connections?: number;
    retryMs?: number;
    giveUpMs?: number;
    /** An open client to send through (left open); else one of `connections` connections. */
    via?: Transporter;
  } = {},
): Promise<Submitted> {
  const client = opts.via ?? submitter(port, tenant, opts.connections ?? 8);
  const refusals: Record<number, number> = {};
  let refused = 0;
  const one = async (n: number): Promise<string> => {
    const giveUp = Date.now() + (opts.giveUpMs ?? 300_000);
    for (;;) {
      try {
        return queuedId(await submit(client, personalisedNewsletter(n)));
      } catch (e) {
        const code = (e as { responseCode?: number }).responseCode;
        if (code !== undefined && code >= 500) throw e;
        refused++;
        refusals[code ?? 0] = (refusals[code ?? 0] ?? 0) + 1;
        if (Date.now() > giveUp) throw e;
        await new Promise((r) => setTimeout(r, opts.retryMs ?? 500));
      }
    }
  };
  try {
    const seqs = Array.from({ length: count }, (_, i) => (opts.first ?? 0) + i);
    const ids = await Promise.all(seqs.map(one));
    return { ids, seqs, refusals, refused };
  } finally {
    if (!opts.via) client.close();
  }
}

export interface DeliveryReport {
  missing: number[];
  /** Seqs that arrived more than once. */
  duplicates: number[];
  /** The longest time without any delivery, from `since` on. */
  longestPauseMs: number;
  /** When the last message arrived, after `since`. */
  lastAfterKillMs: number;
}

export function deliveryReport(sink: SmtpSink, seqs: number[], since: number): DeliveryReport {
  const seen = new Map<number, number>();
  for (const m of sink.messages) {
    const n = seqOf(m.raw);
    seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  const times = sink.messages.map((m) => m.at).filter((at) => at >= since);
  let longestPauseMs = 0;
  let previous = since;
  for (const at of times.sort((a, b) => a - b)) {
    longestPauseMs = Math.max(longestPauseMs, at - previous);
    previous = at;
  }
  return {
    missing: seqs.filter((n) => !seen.has(n)),
    duplicates: [...seen].filter(([, c]) => c > 1).map(([n]) => n),
    longestPauseMs,
    lastAfterKillMs: previous - since,
  };
}
