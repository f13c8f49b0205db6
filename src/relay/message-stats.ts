/**
 * Message activity over time, for the console's charts: delivery attempts by the hour or day
 * they finished, counted by outcome (signed and delivered, sent unsigned, failed, retried),
 * for one tenant or every tenant. Buckets are whole hours or days in the reader's time zone,
 * every bucket present (zero when nothing happened).
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { RelayError } from '../plugin/relay-error';

export type StatsInterval = 'hour' | 'day';
export const STATS_INTERVALS: readonly StatsInterval[] = ['hour', 'day'];
/** Buckets shown by default and at most: two days of hours, a month of days. */
export const STATS_DEFAULT_BUCKETS: Record<StatsInterval, number> = { hour: 48, day: 30 };
export const STATS_MAX_BUCKETS: Record<StatsInterval, number> = { hour: 24 * 14, day: 366 };

export interface StatsBucket {
  /** The bucket's start as a local time in the time zone asked for, e.g. 2026-12-03T18:00. */
  at: string;
  signed: number;
  unsigned: number;
  failed: number;
  retried: number;
}

export interface MessageStats {
  interval: StatsInterval;
  timeZone: string;
  buckets: StatsBucket[];
  totals: Omit<StatsBucket, 'at'>;
}

/** An IANA time zone name the runtime knows ("Asia/Tokyo", "UTC"), else invalid_request. */
export function checkedTimeZone(tz: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(tz)) {
    throw new RelayError(
      'invalid_request',
      'timeZone must be an IANA time zone such as Asia/Tokyo',
    );
  }
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    throw new RelayError('invalid_request', `timeZone ${tz} is not a time zone this server knows`);
  }
}

const OUTCOME_FIELD = {
  delivered: 'signed',
  sent_unsigned: 'unsigned',
  failed: 'failed',
  retry: 'retried',
} as const;

@Injectable()
export class MessageStatsReader {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /** Attempts per bucket for `tenantId`, or (null) every tenant. */
  async read(
    tenantId: string | null,
    q: { interval: StatsInterval; buckets?: number; timeZone?: string },
  ): Promise<MessageStats> {
    const n = Math.min(
      q.buckets ?? STATS_DEFAULT_BUCKETS[q.interval],
      STATS_MAX_BUCKETS[q.interval],
    );
    const tz = checkedTimeZone(q.timeZone ?? 'UTC');
    const step = q.interval === 'hour' ? '1 hour' : '1 day';
    // Local times in `tz`: the buckets are the last n whole hours or days, this one included.
    const rows = await this.db.session.query<{ at: string; outcome: string; n: string }>(
      `WITH span AS (
         SELECT date_trunc($1, now() AT TIME ZONE $2) - ($3::int - 1) * $4::interval AS first,
                date_trunc($1, now() AT TIME ZONE $2) AS last),
       counted AS (
         SELECT date_trunc($1, a.finished_at AT TIME ZONE $2) AS at, a.outcome, count(*) AS n
           FROM message_attempts a
           ${tenantId ? 'JOIN messages m ON m.id = a.message_id AND m.tenant_id = $5::uuid' : ''}
          WHERE a.finished_at >= (SELECT first FROM span) AT TIME ZONE $2
          GROUP BY 1, 2)
       SELECT to_char(b.at, 'YYYY-MM-DD"T"HH24:MI') AS at, c.outcome, COALESCE(c.n, 0) AS n
         FROM generate_series((SELECT first FROM span), (SELECT last FROM span), $4::interval) AS b(at)
         LEFT JOIN counted c ON c.at = b.at
        ORDER BY b.at`,
      tenantId ? [q.interval, tz, n, step, tenantId] : [q.interval, tz, n, step],
    );
    const buckets: StatsBucket[] = [];
    const totals = { signed: 0, unsigned: 0, failed: 0, retried: 0 };
    for (const r of rows) {
      let bucket = buckets[buckets.length - 1];
      if (!bucket || bucket.at !== r.at) {
        bucket = { at: r.at, signed: 0, unsigned: 0, failed: 0, retried: 0 };
        buckets.push(bucket);
      }
      const field = OUTCOME_FIELD[r.outcome as keyof typeof OUTCOME_FIELD];
      if (field) {
        bucket[field] += Number(r.n);
        totals[field] += Number(r.n);
      }
    }
    return { interval: q.interval, timeZone: tz, buckets, totals };
  }
}
