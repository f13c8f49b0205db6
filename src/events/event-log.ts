/**
 * Recording events: a row in `events`, which the dispatcher later hands to every
 * subscription of the tenant that wants its type. Payloads never carry a message body, a
 * key or a secret.
 */
import { randomUUID } from 'node:crypto';
import type { SqlSession } from '../database/migrator';
import type { EventPayloads, EventType } from './event-types';

export type { CertificateEventData } from './event-types';

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
