/**
 * Refusals at intake: a message the relay would not take (SMTP submission, a platform's
 * postback, the HTTP API) leaves a row with the code and words the sender got, and what
 * could be read of the message's header, so an operator or a tenant can see what never
 * became a message. Never the body.
 *
 * Recording never delays or changes the answer to the sender: the row is written in the
 * background, at most MAX_PENDING at a time (past that, and while the database is down, a
 * refusal is only counted in /metrics as unrecorded). Rows go with the history retention.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import type { HistoryTable } from '../database/history';
import { isUuid } from '../common/ids';
import { ERROR_CODES, type ErrorCode } from '../plugin/error-codes';
import { RelayError } from '../plugin/relay-error';
import { fieldValueOf, readHeader } from '../plugin/header-reader';
import type { Refusal } from '../plugin/contract';
import { fromAddressOf } from '../smime';
import { Metrics } from '../health/metrics';
import { tenantSql } from '../tenants/tenants.repository';
import { decodeEncodedWords } from './encoded-words';
import { decodeCursor, encodeCursor } from './message-log';

const MAX_PENDING = 100;
/** Recipients kept per refusal (the count keeps the rest). */
const MAX_RECIPIENTS = 20;
const MAX_TEXT = 300;

export const REFUSAL_HISTORY: HistoryTable = {
  what: 'intake refusals',
  purge: 'DELETE FROM refusals WHERE created_at < $1 RETURNING 1',
};

/** What a sender was told: the SMTP reply for SMTP submission, the HTTP status otherwise. */
export function replyOf(source: string, code: string): string {
  const known = ERROR_CODES[code as ErrorCode];
  if (!known) return source === 'smtp' ? '451 4.3.0' : '500';
  return source === 'smtp' ? known.smtp.join(' ') : String(known.http);
}

/** The header fields a refusal keeps, read leniently: a malformed header gives what it can. */
function headerFacts(raw: Buffer | undefined) {
  if (!raw?.length) return {};
  try {
    const header = readHeader(raw);
    const value = (name: string) => {
      const f = header.fields.find((x) => x.name === name);
      return f
        ? Buffer.from(fieldValueOf(f), 'latin1').toString('utf8').trim().slice(0, MAX_TEXT)
        : undefined;
    };
    let from: string | undefined;
    try {
      from = fromAddressOf(raw, header);
    } catch {
      from = value('from');
    }
    const subject = value('subject');
    return {
      from,
      subject: subject === undefined ? undefined : decodeEncodedWords(subject).slice(0, MAX_TEXT),
      messageId: value('message-id'),
    };
  } catch {
    return {};
  }
}

const iso = (d: Date): string => new Date(d).toISOString();

@Injectable()
export class RefusalLog {
  private readonly log = new Logger('Refusals');
  private pending = 0;
  /** Errors already recorded, so an adapter reporting the same refusal again adds nothing. */
  private readonly recorded = new WeakSet<object>();
  /** Writes in flight, for tests and shutdown. */
  private readonly writes = new Set<Promise<void>>();

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly metrics: Metrics,
  ) {}

  /** Record `error` as the refusal of `r`, once per error object. Never throws. */
  record(r: Refusal, error: unknown): void {
    if (typeof error === 'object' && error !== null) {
      if (this.recorded.has(error)) return;
      this.recorded.add(error);
    }
    const code = error instanceof RelayError ? error.code : 'internal_error';
    if (this.pending >= MAX_PENDING) {
      this.metrics.refusalsUnrecorded.inc();
      return;
    }
    const message = error instanceof RelayError ? error.message : 'the message could not be stored';
    const facts = headerFacts(r.raw);
    const to = r.envelope?.to ?? [];
    this.pending++;
    const write = this.db.session
      .query(
        `INSERT INTO refusals (tenant_id, source, code, message, envelope_from, recipients,
           recipient_count, from_address, subject, message_id_header, size, remote_address)
         VALUES (${tenantSql.existingId('$1::uuid')}, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          r.tenantId && isUuid(r.tenantId) ? r.tenantId : null,
          r.source,
          code,
          message.slice(0, 1000),
          r.envelope?.from ?? null,
          to.slice(0, MAX_RECIPIENTS).map((a) => a.slice(0, MAX_TEXT)),
          to.length,
          facts.from ?? null,
          facts.subject ?? null,
          facts.messageId ?? null,
          r.size ?? r.raw?.length ?? null,
          r.remoteAddress ?? null,
        ],
        'relay_insert_refusal',
      )
      .then(
        () => undefined,
        (e: Error) => {
          this.metrics.refusalsUnrecorded.inc();
          this.log.debug(`a refusal could not be recorded: ${e.message}`);
        },
      )
      .finally(() => {
        this.pending--;
        this.writes.delete(write);
      });
    this.writes.add(write);
  }

  /** Wait for the writes in flight (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.writes]);
  }

  /** A page of refusals, newest first: one tenant's, or (tenantId null) every tenant's. */
  async list(
    tenantId: string | null,
    q: { limit: number; cursor?: string; since?: Date; until?: Date; code?: string },
  ) {
    const after = q.cursor ? decodeCursor(q.cursor, (id) => /^\d{1,19}$/.test(id)) : undefined;
    const rows = await this.db.session.query<Record<string, never>>(
      `SELECT id, tenant_id, source, code, message, envelope_from, recipients, recipient_count,
         from_address, subject, message_id_header, size, remote_address, created_at,
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
       FROM refusals
       WHERE ($1::uuid IS NULL OR tenant_id = $1)
         AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::bigint))
         AND ($4::timestamptz IS NULL OR created_at >= $4)
         AND ($5::timestamptz IS NULL OR created_at < $5)
         AND ($6::text IS NULL OR code = $6)
       ORDER BY created_at DESC, id DESC LIMIT $7`,
      [
        tenantId,
        after?.at ?? null,
        after?.id ?? null,
        q.since ?? null,
        q.until ?? null,
        q.code ?? null,
        q.limit + 1,
      ],
    );
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        id: String(r.id),
        tenantId: r.tenant_id as string | null,
        source: r.source as string,
        code: r.code as string,
        reply: replyOf(r.source, r.code),
        message: r.message as string,
        envelope: { from: r.envelope_from, to: r.recipients },
        recipientCount: r.recipient_count as number,
        from: r.from_address,
        subject: r.subject,
        messageIdHeader: r.message_id_header,
        size: r.size,
        remoteAddress: r.remote_address,
        createdAt: iso(r.created_at),
      })),
      nextCursor:
        rows.length > q.limit && last ? encodeCursor(last.cursor_at, String(last.id)) : null,
    };
  }
}
