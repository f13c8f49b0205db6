/**
 * Recording events: a row in `events`, which the dispatcher later hands to every
 * subscription of the tenant that wants its type. Payloads never carry a message body, a
 * key or a secret.
 */
import { randomUUID } from 'node:crypto';
import type { SqlSession } from '../database/migrator';
import type { EventPayloads, EventType } from './event-types';
import type { EventRecord } from './event-sinks';
import type { HistoryTable } from '../database/history';

export type { CertificateEventData } from './event-types';

/** The columns of an event as {@link eventRecordOf} reads them. */
export const EVENT_COLUMNS = 'id, tenant_id, type, message_id, data, created_at';

export interface EventRow {
  id: string;
  tenant_id: string;
  type: string;
  message_id: string | null;
  data: Record<string, unknown>;
  created_at: Date;
}

/** An event row as the sinks see it. */
export const eventRecordOf = (r: EventRow): EventRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  type: r.type,
  messageId: r.message_id,
  data: r.data,
  createdAt: new Date(r.created_at),
});

/** Records an event of `type` with its typed `data` (the tenant id is added). */
export async function recordEvent<T extends EventType>(
  db: SqlSession,
  tenantId: string,
  type: T,
  data: EventPayloads[T],
  messageId?: string,
): Promise<string> {
  const id = randomUUID();
  await db.query(
    'INSERT INTO events (id, tenant_id, type, message_id, data) VALUES ($1, $2, $3, $4, $5)',
    [id, tenantId, type, messageId ?? null, JSON.stringify({ tenantId, ...data })],
  );
  return id;
}

/**
 * SQL for recording an event in the statement that caused it (the relay's attempt record):
 * an INSERT … SELECT from `source`, a CTE or table with `id` (the message) and `tenant_id`.
 * `id`, `type` and `data` are the statement's parameters ($n) for the event id, its type
 * (NULL: no event) and its JSON payload.
 */
export const insertEventFromSql = (
  source: string,
  p: { id: string; type: string; data: string },
): string =>
  `INSERT INTO events (id, tenant_id, type, message_id, data)
   SELECT ${p.id}, tenant_id, ${p.type}, id, ${p.data} FROM ${source}
    WHERE ${p.type}::text IS NOT NULL`;

/**
 * Event history, dropped after the retention period: finished deliveries, then events that
 * nothing waits for any more (a receiver down or a subscription disabled keeps its pending
 * deliveries, and their events, past the period).
 */
export const EVENT_HISTORY: readonly HistoryTable[] = [
  {
    what: 'finished event deliveries',
    purge: `DELETE FROM event_deliveries WHERE state <> 'pending' AND finished_at < $1 RETURNING 1`,
  },
  {
    what: 'events',
    purge: `DELETE FROM events e WHERE e.dispatched_at IS NOT NULL AND e.created_at < $1
              AND NOT EXISTS (SELECT 1 FROM event_deliveries d
                               WHERE d.event_id = e.id AND d.state = 'pending')
            RETURNING 1`,
  },
];
