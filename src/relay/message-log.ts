/**
 * Reading the spool for the message API: pages of a tenant's messages (newest first, keyset
 * cursor) and one message with every attempt. Never the body.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { isUuid } from '../common/ids';
import { RelayError } from '../plugin/relay-error';
import type { SqlSession } from '../database/migrator';
import { MESSAGE_STATES, type MessageState } from './spool';
import { decodeEncodedWords } from './encoded-words';

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

const SUMMARY = `id, source, state, envelope_from, envelope_to, from_address, subject, size,
  attempts, next_attempt_at, last_error_code, last_error_message, provider_message_id,
  unsigned_allowed, signing_mode, created_at, updated_at, finished_at, raw IS NOT NULL AS body_kept,
  subject_text, message_id_header,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`;

function summary(r: Record<string, never>) {
  const unfinished = r.state === 'queued' || r.state === 'retrying';
  return {
    id: r.id as string,
    source: r.source,
    state: r.state,
    envelope: { from: r.envelope_from, to: r.envelope_to },
    from: r.from_address,
    /** For display: RFC 2047 encoded-words decoded (subjectRaw: as the message has it). */
    subject: r.subject === null ? null : (r.subject_text ?? decodeEncodedWords(r.subject)),
    subjectRaw: r.subject,
    size: r.size,
    attempts: r.attempts,
    nextAttemptAt: unfinished ? iso(r.next_attempt_at) : null,
    lastError: r.last_error_code
      ? { code: r.last_error_code, message: r.last_error_message }
      : null,
    providerMessageId: r.provider_message_id,
    /** The Message-ID header field as the message has it (null for messages stored before it was kept). */
    messageIdHeader: r.message_id_header,
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

/** What a page of messages is narrowed to; every field is optional but the page size. */
export interface MessageSearch {
  state?: MessageState;
  limit: number;
  cursor?: string;
  /** Accepted at or after. */
  since?: Date;
  /** Accepted before. */
  until?: Date;
  /** Part of a recipient's address, any case. */
  recipient?: string;
  /** Part of the subject as a reader sees it (encoded-words decoded), any case. */
  subject?: string;
  /** The Message-ID header field, with or without its angle brackets. */
  messageId?: string;
}

/** `text` for a LIKE pattern: its own %, _ and \\ match themselves. */
export const likeEscaped = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export const encodeCursor = (createdAt: string, id: string): string =>
  Buffer.from(`${createdAt}|${id}`, 'utf8').toString('base64url');

/** The cursor keeps created_at to the microsecond, as PostgreSQL stores it; `isId` checks its id. */
export function decodeCursor(
  cursor: string,
  isId: (id: string) => boolean = isUuid,
): { at: string; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!id || !isId(id) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(at ?? '')) {
    throw new RelayError('invalid_request', 'cursor is not one this API returned');
  }
  return { at, id };
}

/** How many messages are in each state, across tenants (operator overview). */
export async function countByState(session: SqlSession): Promise<Record<MessageState, number>> {
  const rows = await session.query<{ state: MessageState; n: string }>(
    'SELECT state, count(*) AS n FROM messages GROUP BY state',
  );
  const counts = Object.fromEntries(MESSAGE_STATES.map((s) => [s, 0])) as Record<
    MessageState,
    number
  >;
  for (const r of rows) counts[r.state] = Number(r.n);
  return counts;
}

/** The From and envelope senders of the tenant's messages from `domain` in the last 30 days. */
export function recentSenders(
  session: SqlSession,
  tenantId: string,
  domain: string,
): Promise<{ sender: string; envelope_from: string }[]> {
  return session.query(
    `SELECT DISTINCT lower(from_address) AS sender, lower(envelope_from) AS envelope_from
       FROM messages
      WHERE tenant_id = $1 AND created_at > now() - interval '30 days'
        AND split_part(lower(from_address), '@', 2) = $2`,
    [tenantId, domain.toLowerCase()],
  );
}

/** The first `bytes` of the newest kept bodies of the tenant's messages from `domain`. */
export async function recentHeads(
  session: SqlSession,
  tenantId: string,
  domain: string,
  bytes: number,
  limit: number,
): Promise<Buffer[]> {
  const rows = await session.query<{ head: Uint8Array }>(
    `SELECT substring(raw from 1 for $3) AS head
       FROM messages
      WHERE tenant_id = $1 AND raw IS NOT NULL AND split_part(lower(from_address), '@', 2) = $2
      ORDER BY created_at DESC LIMIT $4`,
    [tenantId, domain.toLowerCase(), bytes, limit],
  );
  return rows.map((r) => Buffer.from(r.head));
}

/** The tenant and platform (message meta `platform`) of those messages that name one. */
export function platformsOf(
  session: SqlSession,
  ids: string[],
): Promise<{ id: string; tenantId: string; platform: string }[]> {
  return session.query(
    `SELECT id, tenant_id AS "tenantId", meta->>'platform' AS platform FROM messages
      WHERE id = ANY ($1::uuid[]) AND meta->>'platform' IS NOT NULL`,
    [ids],
  );
}

/** A message's meta (platform hand-off facts), or undefined when the message is gone. */
export async function metaOf(
  session: SqlSession,
  id: string,
): Promise<Record<string, string> | undefined> {
  const [m] = await session.query<{ meta: Record<string, string> }>(
    'SELECT meta FROM messages WHERE id = $1',
    [id],
  );
  return m?.meta;
}

@Injectable()
export class MessageLog {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async list(tenantId: string, q: MessageSearch) {
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = await this.db.session.query<Record<string, never>>(
      `SELECT ${SUMMARY} FROM messages
       WHERE tenant_id = $1 AND ($2::text IS NULL OR state = $2)
         AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
         AND ($6::timestamptz IS NULL OR created_at >= $6)
         AND ($7::timestamptz IS NULL OR created_at < $7)
         AND ($8::text IS NULL OR array_to_string(envelope_to, ' ') ILIKE $8)
         AND ($9::text IS NULL OR COALESCE(subject_text, subject) ILIKE $9)
         AND ($10::text IS NULL OR message_id_header = $10 OR message_id_header = '<' || $10 || '>')
       ORDER BY created_at DESC, id DESC LIMIT $5`,
      [
        tenantId,
        q.state ?? null,
        after?.at ?? null,
        after?.id ?? null,
        q.limit + 1,
        q.since ?? null,
        q.until ?? null,
        q.recipient ? `%${likeEscaped(q.recipient)}%` : null,
        q.subject ? `%${likeEscaped(q.subject)}%` : null,
        q.messageId ? q.messageId.trim().replace(/^<(.*)>$/, '$1') : null,
      ],
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
