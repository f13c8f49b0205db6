/**
 * The outbox of event deliveries (migration 0009): one row per event and receiver, pending
 * until delivered or given up. Claims take, per receiver, the oldest delivery that is due,
 * and only when none of that receiver's is in flight: one call at a time per receiver, in
 * the order the events happened, and a slow receiver holds up no other.
 */
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import type { SqlSession } from '../database/migrator';
import type { EventRecord, SinkName } from './event-sinks';
import { EVENT_COLUMNS, eventRecordOf, type EventRow } from './event-log';

export interface ClaimedDelivery {
  id: string;
  eventId: string;
  tenantId: string;
  sink: SinkName;
  targetId: string;
  /** Attempts made before this one. */
  attempts: number;
}

@Injectable()
export class EventDeliveries {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /**
   * New deliveries, once per event, sink and target (inside the dispatcher's transaction),
   * dated when the event happened: that is the order a receiver gets them in.
   */
  async add(
    tx: SqlSession,
    rows: { eventId: string; tenantId: string; sink: SinkName; targetId: string; at: Date }[],
  ): Promise<void> {
    if (!rows.length) return;
    await tx.query(
      `INSERT INTO event_deliveries (id, event_id, tenant_id, sink, target_id, created_at)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[],
         $6::timestamptz[])
       ON CONFLICT (event_id, sink, target_id) DO NOTHING`,
      [
        rows.map(() => randomUUID()),
        rows.map((r) => r.eventId),
        rows.map((r) => r.tenantId),
        rows.map((r) => r.sink),
        rows.map((r) => r.targetId),
        rows.map((r) => r.at),
      ],
    );
  }

  /** Up to `limit` due deliveries, at most one per receiver, leased for `leaseMs`. */
  async claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows = await this.db.session.query<{
      id: string;
      event_id: string;
      tenant_id: string;
      sink: SinkName;
      target_id: string;
      attempts: number;
    }>(
      `UPDATE event_deliveries d SET lease_until = now() + $2 * interval '1 millisecond'
       FROM (
         SELECT DISTINCT ON (p.sink, p.target_id) p.id FROM event_deliveries p
          WHERE p.state = 'pending' AND p.next_attempt_at <= now()
            AND (p.lease_until IS NULL OR p.lease_until < now())
            AND NOT EXISTS (SELECT 1 FROM event_deliveries q
                             WHERE q.sink = p.sink AND q.target_id = p.target_id
                               AND q.state = 'pending' AND q.lease_until >= now())
          ORDER BY p.sink, p.target_id, p.created_at, p.id
          LIMIT $1) c
       WHERE d.id = c.id AND (d.lease_until IS NULL OR d.lease_until < now())
       RETURNING d.id, d.event_id, d.tenant_id, d.sink, d.target_id, d.attempts`,
      [limit, leaseMs],
    );
    return rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      tenantId: r.tenant_id,
      sink: r.sink,
      targetId: r.target_id,
      attempts: r.attempts,
    }));
  }

  async events(ids: string[]): Promise<Map<string, EventRecord>> {
    if (!ids.length) return new Map();
    const rows = await this.db.session.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE id = ANY ($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, eventRecordOf(r)]));
  }

  async delivered(id: string, attempts: number): Promise<void> {
    await this.db.session.query(
      `UPDATE event_deliveries SET state = 'delivered', attempts = $2, lease_until = NULL,
         last_error = NULL, finished_at = now() WHERE id = $1`,
      [id, attempts],
    );
  }

  async failed(id: string, attempts: number, error: string): Promise<void> {
    await this.db.session.query(
      `UPDATE event_deliveries SET state = 'failed', attempts = $2, lease_until = NULL,
         last_error = $3, finished_at = now() WHERE id = $1`,
      [id, attempts, error.slice(0, 500)],
    );
  }

  async retryAt(id: string, attempts: number, error: string, at: Date): Promise<void> {
    await this.db.session.query(
      `UPDATE event_deliveries SET attempts = $2, lease_until = NULL, last_error = $3,
         next_attempt_at = $4 WHERE id = $1`,
      [id, attempts, error.slice(0, 500), at],
    );
  }

  /** The receiver takes nothing now: the delivery waits until resume() (no attempt counted). */
  async pause(id: string): Promise<void> {
    await this.db.session.query(
      `UPDATE event_deliveries SET lease_until = NULL, next_attempt_at = 'infinity' WHERE id = $1`,
      [id],
    );
  }

  /** A receiver's waiting deliveries become due now (a subscription enabled again). */
  async resume(sink: SinkName, targetId: string): Promise<void> {
    await this.db.session.query(
      `UPDATE event_deliveries SET next_attempt_at = now()
        WHERE sink = $1 AND target_id = $2 AND state = 'pending'`,
      [sink, targetId],
    );
  }

  /** Pending deliveries of a receiver (for the API: what is waiting). */
  async pendingCount(sink: SinkName, targetId: string): Promise<number> {
    const [r] = await this.db.session.query<{ n: string }>(
      `SELECT count(*) AS n FROM event_deliveries
        WHERE sink = $1 AND target_id = $2 AND state = 'pending'`,
      [sink, targetId],
    );
    return Number(r.n);
  }
}
