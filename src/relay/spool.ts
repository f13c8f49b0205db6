/**
 * The spool: every accepted message is a row, and the row is the source of truth. Redis
 * only schedules work. Each state change and its attempt record are one statement, so a
 * crash leaves either both or neither.
 */
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import type { Envelope } from '../plugin/contract';
import type { RecipientSigning } from '../tenants/recipient-policy';
import type { PreparedMessage } from '../smime';
import type { HistoryTable } from '../database/history';
import { tenantSql } from '../tenants/tenants.repository';
import { certificateSql } from '../certificates/certificates.repository';
import { dkimUpdatedAtSql } from '../dkim/dkim-keys';
import { wantsEventSql } from '../webhooks/subscriptions';
import { insertEventFromSql } from '../events/event-log';

export const MESSAGE_STATES = [
  'queued',
  'retrying',
  'delivered',
  'failed',
  'sent_unsigned',
] as const;
export type MessageState = (typeof MESSAGE_STATES)[number];

export interface NewMessage {
  tenantId: string;
  source: string;
  envelope: Envelope;
  fromAddress: string;
  subject?: string;
  /** The subject with RFC 2047 words decoded, when that differs from `subject`. */
  subjectText?: string;
  /** The Message-ID header field, for search. */
  messageIdHeader?: string;
  raw: Buffer;
  unsignedAllowed: boolean;
  /** The signing a per-domain rule chose for these recipients; null: the default. */
  signingMode?: RecipientSigning | null;
  idempotencyKey?: string;
  meta?: Record<string, string>;
}

/** What the worker needs, with the tenant's current policy and certificate in one read. */
export interface MessageForDelivery {
  id: string;
  tenantId: string;
  state: MessageState;
  envelope: Envelope;
  fromAddress: string;
  raw: Buffer | null;
  /** prepareMessage(raw), when Intake in this process made it (see RecentBodies). */
  prepared?: PreparedMessage;
  attempts: number;
  retryPeriodFrom: Date;
  createdAt: Date;
  meta: Record<string, string>;
  signingPolicy: 'require' | 'prefer';
  /** The signing the tenant's per-domain rule chose for the recipients; null: the default. */
  signingMode: RecipientSigning | null;
  /** The valid certificate covering the From address that expires last, if any. */
  certificateId: string | null;
  /** When the tenant's DKIM key last changed; null without one. */
  dkimUpdatedAt: Date | null;
  /** Whether a webhook subscription of the tenant asks for `message.delivered`. */
  wantsDeliveredEvent: boolean;
  /** The tenant's delivery settings row, if any. */
  delivery: {
    transport: string;
    settings: object;
    sealedSecrets: Buffer | null;
    updatedAt: Date;
  } | null;
}

export interface AttemptOutcome {
  attempt: number;
  startedAt: Date;
  outcome: 'delivered' | 'sent_unsigned' | 'retry' | 'failed';
  errorCode?: string;
  errorMessage?: string;
  reply?: string;
  providerMessageId?: string;
  nextAttemptAt?: Date;
  /** An event to record in the same statement (final failures, unsigned sends). */
  event?: { type: string; data: object };
}

const buf = (v: Buffer | Uint8Array | null): Buffer | null =>
  v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);

const STATE_OF: Record<AttemptOutcome['outcome'], MessageState> = {
  delivered: 'delivered',
  sent_unsigned: 'sent_unsigned',
  retry: 'retrying',
  failed: 'failed',
};

@Injectable()
export class Spool {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /**
   * Commit a message; resolves only after the row is durable. With an idempotency key that
   * was seen before, the earlier message's id comes back instead (`duplicate`).
   */
  async insert(m: NewMessage): Promise<{ id: string; duplicate: boolean }> {
    const id = randomUUID();
    const rows = await this.db.session.query<{ id: string }>(
      `INSERT INTO messages (id, tenant_id, source, envelope_from, envelope_to, from_address,
         subject, size, raw, unsigned_allowed, state, idempotency_key, meta, signing_mode,
         subject_text, message_id_header)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11, $12, $13, $14, $15)
       ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id`,
      [
        id,
        m.tenantId,
        m.source,
        m.envelope.from,
        m.envelope.to,
        m.fromAddress,
        m.subject ?? null,
        m.raw.length,
        m.raw,
        m.unsignedAllowed,
        m.idempotencyKey ?? null,
        JSON.stringify(m.meta ?? {}),
        m.signingMode ?? null,
        m.subjectText ?? null,
        m.messageIdHeader ?? null,
      ],
      'relay_insert_message',
    );
    if (rows.length > 0) return { id, duplicate: false };
    const [earlier] = await this.db.session.query<{ id: string }>(
      'SELECT id FROM messages WHERE tenant_id = $1 AND idempotency_key = $2',
      [m.tenantId, m.idempotencyKey],
    );
    return { id: earlier.id, duplicate: true };
  }

  /**
   * The message with its tenant's policy, certificate and upstream, in one read. Without
   * `withBody` the raw body is left out (the caller has it already) and `raw` is null.
   */
  async forDelivery(
    id: string,
    now = new Date(),
    withBody = true,
  ): Promise<MessageForDelivery | undefined> {
    const [r] = await this.db.session.query<Record<string, never>>(
      `SELECT m.id, m.tenant_id, m.state, m.envelope_from, m.envelope_to, m.from_address,
         CASE WHEN $3 THEN m.raw END AS raw,
         m.attempts, m.retry_period_from, m.created_at, m.meta, m.signing_mode,
         ${tenantSql.signingPolicy('m.tenant_id')} AS signing_policy,
         ${certificateSql.covering('m.tenant_id', 'm.from_address', '$2')} AS certificate_id,
         d.transport, d.settings, d.sealed_secrets, d.updated_at AS delivery_updated_at,
         ${dkimUpdatedAtSql('m.tenant_id')} AS dkim_updated_at,
         ${wantsEventSql('m.tenant_id', 'message.delivered')} AS wants_delivered_event
       FROM messages m LEFT JOIN delivery_settings d ON d.tenant_id = m.tenant_id
       WHERE m.id = $1`,
      [id, now, withBody],
      'relay_for_delivery',
    );
    if (!r) return undefined;
    return {
      id: r.id,
      tenantId: r.tenant_id,
      state: r.state,
      envelope: { from: r.envelope_from, to: r.envelope_to },
      fromAddress: r.from_address,
      raw: buf(r.raw),
      attempts: r.attempts,
      retryPeriodFrom: r.retry_period_from,
      createdAt: r.created_at,
      meta: r.meta,
      signingPolicy: r.signing_policy,
      signingMode: r.signing_mode,
      certificateId: r.certificate_id,
      wantsDeliveredEvent: r.wants_delivered_event,
      dkimUpdatedAt: r.dkim_updated_at,
      delivery: r.transport
        ? {
            transport: r.transport,
            settings: r.settings,
            sealedSecrets: buf(r.sealed_secrets),
            updatedAt: r.delivery_updated_at,
          }
        : null,
    };
  }

  /**
   * Record an attempt and the message's new state at once. Only an unfinished message
   * changes; returns false when it was already final (a duplicate job).
   */
  async record(m: MessageForDelivery, o: AttemptOutcome): Promise<boolean> {
    const final = o.outcome !== 'retry';
    const rows = await this.db.session.query(
      `WITH changed AS (
         UPDATE messages SET state = $2, attempts = $3, updated_at = now(),
           next_attempt_at = COALESCE($4, next_attempt_at),
           finished_at = CASE WHEN $5 THEN now() ELSE NULL END,
           last_error_code = $6, last_error_message = $7,
           provider_message_id = COALESCE($8, provider_message_id)
         WHERE id = $1 AND state IN ('queued', 'retrying')
         RETURNING id, tenant_id),
       attempt AS (
         INSERT INTO message_attempts (message_id, attempt, started_at, outcome, error_code, reply)
         SELECT id, $3, $9, $10, $6, $11 FROM changed RETURNING message_id),
       event AS (
         ${insertEventFromSql('changed', { id: '$12', type: '$13', data: '$14' })}
         RETURNING id)
       SELECT id FROM changed`,
      [
        m.id,
        STATE_OF[o.outcome],
        o.attempt,
        o.nextAttemptAt ?? null,
        final,
        o.errorCode ?? null,
        o.errorMessage ?? null,
        o.providerMessageId ?? null,
        o.startedAt,
        o.outcome,
        o.reply ?? null,
        randomUUID(),
        o.event?.type ?? null,
        o.event ? JSON.stringify(o.event.data) : null,
      ],
      'relay_record_attempt',
    );
    return rows.length > 0;
  }

  /**
   * Unfinished messages, oldest schedule first, after the cursor `after` (keyset pages).
   * The cursor keeps the time to the microsecond, as PostgreSQL stores it.
   */
  async unfinished(
    limit: number,
    after?: { at: string; id: string },
  ): Promise<{ id: string; nextAttemptAt: Date; cursor: { at: string; id: string } }[]> {
    const rows = await this.db.session.query<{ id: string; next_attempt_at: Date; at: string }>(
      `SELECT id, next_attempt_at,
         to_char(next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
       FROM messages
       WHERE state IN ('queued', 'retrying')
         AND ($2::timestamptz IS NULL OR (next_attempt_at, id) > ($2::timestamptz, $3::uuid))
       ORDER BY next_attempt_at, id LIMIT $1`,
      [limit, after?.at ?? null, after?.id ?? null],
    );
    return rows.map((r) => ({
      id: r.id,
      nextAttemptAt: r.next_attempt_at,
      cursor: { at: r.at, id: r.id },
    }));
  }

  /** Keep the bytes handed to the upstream (check messages only: see src/transit). */
  async keepSentCopy(id: string, sent: Buffer): Promise<void> {
    await this.db.session.query('UPDATE messages SET sent_copy = $2 WHERE id = $1', [id, sent]);
  }

  /** A message's state, its last error and (if kept) the bytes handed to the upstream. */
  async outcome(id: string): Promise<
    | {
        state: MessageState;
        error: { code: string; message: string } | null;
        sent: Buffer | null;
        createdAt: Date;
        finishedAt: Date | null;
      }
    | undefined
  > {
    const [r] = await this.db.session.query<Record<string, never>>(
      `SELECT state, last_error_code, last_error_message, sent_copy, created_at, finished_at
         FROM messages WHERE id = $1`,
      [id],
    );
    if (!r) return undefined;
    return {
      state: r.state,
      error: r.last_error_code ? { code: r.last_error_code, message: r.last_error_message } : null,
      sent: buf(r.sent_copy),
      createdAt: r.created_at,
      finishedAt: r.finished_at,
    };
  }

  /** Drop raw bodies kept longer than the retention period after a final state. */
  async purgeBodies(olderThan: Date): Promise<number> {
    const rows = await this.db.session.query(
      `UPDATE messages SET raw = NULL, sent_copy = NULL
       WHERE raw IS NOT NULL AND finished_at IS NOT NULL AND finished_at < $1 RETURNING id`,
      [olderThan],
    );
    return rows.length;
  }

  /**
   * Drop history older than `olderThan`, table by table as their owners declare it
   * (src/history-tables.ts). Messages and their attempt log stay.
   */
  async purgeHistory(olderThan: Date, tables: readonly HistoryTable[]): Promise<number> {
    let dropped = 0;
    for (const t of tables) dropped += (await this.db.session.query(t.purge, [olderThan])).length;
    return dropped;
  }

  /** Put a failed message back in the queue, with a fresh retry period, if its body is kept. */
  async requeue(tenantId: string, id: string): Promise<'ok' | 'not_failed' | 'no_body'> {
    const rows = await this.db.session.query(
      `UPDATE messages SET state = 'queued', next_attempt_at = now(), retry_period_from = now(),
         finished_at = NULL, updated_at = now()
       WHERE id = $1 AND tenant_id = $2 AND state = 'failed' AND raw IS NOT NULL RETURNING id`,
      [id, tenantId],
    );
    if (rows.length > 0) return 'ok';
    const [failed] = await this.db.session.query(
      "SELECT 1 FROM messages WHERE id = $1 AND tenant_id = $2 AND state = 'failed'",
      [id, tenantId],
    );
    return failed ? 'no_body' : 'not_failed';
  }
}
