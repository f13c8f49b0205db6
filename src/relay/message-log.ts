/**
 * Reading the spool for the message API: pages of a tenant's messages (newest first, keyset
 * cursor) and one message with every attempt. Never the body.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { isUuid } from '../common/ids';
import { RelayError } from '../plugin/relay-error';
import type { MessageState } from './spool';

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

const SUMMARY = `id, source, state, envelope_from, envelope_to, from_address, subject, size,
  attempts, next_attempt_at, last_error_code, last_error_message, provider_message_id,
  unsigned_allowed, signing_mode, created_at, updated_at, finished_at, raw IS NOT NULL AS body_kept,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`;

function summary(r: Record<string, never>) {
  const unfinished = r.state === 'queued' || r.state === 'retrying';
  return {
    id: r.id as string,
    source: r.source,
    state: r.state,
    envelope: { from: r.envelope_from, to: r.envelope_to },
    from: r.from_address,
    subject: r.subject,
    size: r.size,
    attempts: r.attempts,
    nextAttemptAt: unfinished ? iso(r.next_attempt_at) : null,
    lastError: r.last_error_code
      ? { code: r.last_error_code, message: r.last_error_message }
      : null,
    providerMessageId: r.provider_message_id,
    /** The signing a per-domain rule of the tenant chose; null: the default. */
    recipientSigning: r.signing_mode,
    /** Why a sent_unsigned message went out unsigned (never a failure). */
    unsignedReason:
      r.state === 'sent_unsigned'
        ? r.signing_mode === 'unsigned'
          ? 'recipient_policy'
          : 'no_certificate'
        : null,
    bodyKept: r.body_kept,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    finishedAt: iso(r.finished_at),
  };
}

export const encodeCursor = (createdAt: string, id: string): string =>
  Buffer.from(`${createdAt}|${id}`, 'utf8').toString('base64url');

/** The cursor keeps created_at to the microsecond, as PostgreSQL stores it. */
function decodeCursor(cursor: string): { at: string; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!id || !isUuid(id) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(at ?? '')) {
    throw new RelayError('invalid_request', 'cursor is not one this API returned');
  }
  return { at, id };
}

@Injectable()
export class MessageLog {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async list(tenantId: string, q: { state?: MessageState; limit: number; cursor?: string }) {
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = await this.db.session.query<Record<string, never>>(
      `SELECT ${SUMMARY} FROM messages
       WHERE tenant_id = $1 AND ($2::text IS NULL OR state = $2)
         AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $5`,
      [tenantId, q.state ?? null, after?.at ?? null, after?.id ?? null, q.limit + 1],
    );
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(summary),
      nextCursor:
        rows.length > q.limit && last ? encodeCursor(last.cursor_at, last.id as string) : null,
    };
  }

  async get(tenantId: string, id: string) {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.session.query<Record<string, never>>(
      `SELECT ${SUMMARY}, meta FROM messages WHERE id = $1 AND tenant_id = $2`,
      [id, tenantId],
    );
    if (!row) return undefined;
    const attempts = await this.db.session.query<Record<string, never>>(
      `SELECT attempt, started_at, finished_at, outcome, error_code, reply
       FROM message_attempts WHERE message_id = $1 ORDER BY attempt, id`,
      [id],
    );
    return {
      ...summary(row),
      meta: row.meta,
      attemptLog: attempts.map((a) => ({
        attempt: a.attempt,
        startedAt: iso(a.started_at),
        finishedAt: iso(a.finished_at),
        outcome: a.outcome,
        errorCode: a.error_code,
        reply: a.reply,
      })),
    };
  }
}
