/**
 * Fault tests of the scaled-out relay: a sender that behaves like a marketing platform (a
 * 4xx reply means "try again later", so it retries) and the sink's account of what arrived.
 */
import type { Transporter } from 'nodemailer';
import type { SmtpSink } from '../helpers/smtp-sink';
import {
  personalisedNewsletter,
  queuedId,
  seqOf,
  submit,
  submitter,
  type RelayTenant,
} from './relay';

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
