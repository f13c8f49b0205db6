/**
 * Recording events: a row in `events`, which the dispatcher later hands to every
 * subscription of the tenant that wants its type. Payloads never carry a message body, a
 * key or a secret.
 */
import { randomUUID } from 'node:crypto';
import type { SqlSession } from '../database/migrator';
import type { EventType } from './event-types';

export interface CertificateEventData {
  id: string;
  fingerprintSha256: string;
  emailAddresses: string[];
  notAfter: string;
}

export async function recordEvent(
  db: SqlSession,
  tenantId: string,
  type: EventType,
  data: Record<string, unknown>,
  messageId?: string,
): Promise<string> {
  const id = randomUUID();
  await db.query(
    'INSERT INTO events (id, tenant_id, type, message_id, data) VALUES ($1, $2, $3, $4, $5)',
    [id, tenantId, type, messageId ?? null, JSON.stringify({ tenantId, ...data })],
  );
  return id;
}
