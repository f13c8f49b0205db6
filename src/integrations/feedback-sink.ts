/**
 * Platform feedback as an event sink: a failure of a message whose meta names a platform
 * (listmonk, Mautic) goes to each of the tenant's integrations with that platform, through
 * the adapter's onMessageFailed. Every attempt is logged (GET …/integrations/:platform/:id/
 * deliveries). A transient FeedbackError, or any unexpected error, is tried again with
 * backoff from FEEDBACK_RETRY_INITIAL_SECONDS for about a day; a permanent one ends the
 * delivery. Only the address's own refusal is a hard bounce (see the adapters).
 */
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Environment } from '../config/environment';
import { ENVIRONMENT } from '../config/tokens';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import type { SqlSession } from '../database/migrator';
import type { HistoryTable } from '../database/history';
import {
  EventSinks,
  type EventRecord,
  type EventSink,
  type SinkOutcome,
} from '../events/event-sinks';
import { FeedbackError, PlatformRegistry, type FailedMessage } from '../plugin/contract';
import { isRecipientRefusal } from '../relay/delivery-errors';
import { IntegrationStore, integrationIdsOf } from './integration-store';
import { metaOf, platformsOf } from '../relay/message-log';
import { PlatformHttp } from './platform-http';
import { withDeadline } from '../common/deadline';

export const FEEDBACK_ATTEMPTS = 15;

/** The platform feedback log, dropped after the retention period. */
export const FEEDBACK_HISTORY: HistoryTable = {
  what: 'platform feedback log',
  purge: 'DELETE FROM feedback_deliveries WHERE created_at < $1 RETURNING 1',
};

/** The event types that end a message as failed, and the stage each stands for. */
export const FAILURE_EVENTS: Record<string, FailedMessage['stage']> = {
  'message.delivery_failed': 'delivery',
  'message.signing_failed': 'signing',
};

@Injectable()
export class FeedbackSink implements EventSink, OnModuleInit {
  readonly name = 'feedback';
  readonly maxAttempts = FEEDBACK_ATTEMPTS;
  readonly initialRetryMs: number;
  private readonly deadlineMs: number;
  private readonly log = new Logger('PlatformFeedback');

  constructor(
    @Inject(ENVIRONMENT) env: Environment,
    @Inject(DATABASE) private readonly db: Database,
    private readonly sinks: EventSinks,
    private readonly platforms: PlatformRegistry,
    private readonly store: IntegrationStore,
    private readonly http: PlatformHttp,
  ) {
    this.initialRetryMs = env.FEEDBACK_RETRY_INITIAL_SECONDS * 1000;
    this.deadlineMs = env.PLATFORM_CALLBACK_DEADLINE_SECONDS * 1000;
  }

  onModuleInit(): void {
    this.sinks.register(this);
  }

  /** Failures of messages whose meta names a platform the tenant has integrations with. */
  async targets(tx: SqlSession, events: EventRecord[]) {
    const failures = events.filter((e) => FAILURE_EVENTS[e.type] && e.messageId);
    if (failures.length === 0) return [];
    const messages = await platformsOf(
      tx,
      failures.map((e) => e.messageId as string),
    );
    // One read per tenant and platform, however many of its messages failed.
    const ids = new Map<string, Promise<string[]>>();
    const byMessage = new Map<string, string[]>();
    for (const m of messages) {
      const key = `${m.tenantId} ${m.platform}`;
      if (!ids.has(key)) ids.set(key, integrationIdsOf(tx, m.tenantId, m.platform));
      byMessage.set(m.id, await ids.get(key)!);
    }
    return failures.flatMap((e) =>
      (byMessage.get(e.messageId as string) ?? []).map((targetId) => ({ eventId: e.id, targetId })),
    );
  }

  private async failureOf(e: EventRecord): Promise<FailedMessage | undefined> {
    const meta = await metaOf(this.db.session, e.messageId as string);
    if (!meta) return undefined;
    const d = e.data as { recipients?: string[]; error?: FailedMessage['error'] };
    const error = d.error ?? { code: 'internal_error', message: 'the message failed' };
    return {
      messageId: e.messageId as string,
      tenantId: e.tenantId,
      recipients: d.recipients ?? [],
      stage: FAILURE_EVENTS[e.type],
      error,
      recipientRefused: isRecipientRefusal(error.code, error.reply),
      meta,
    };
  }

  private async logAttempt(
    integrationId: string,
    e: EventRecord,
    attempt: number,
    outcome: string,
    detail: string,
  ): Promise<void> {
    await this.db.session.query(
      `INSERT INTO feedback_deliveries (integration_id, event_id, message_id, attempt, outcome, detail)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [integrationId, e.id, e.messageId, attempt, outcome, detail.slice(0, 500)],
    );
  }

  async deliver(e: EventRecord, integrationId: string, attempt: number): Promise<SinkOutcome> {
    const failure = await this.failureOf(e);
    const platform = failure?.meta.platform;
    const adapter = platform ? this.platforms.get(platform) : undefined;
    const integration =
      failure && platform
        ? await this.store.openedOne(e.tenantId, platform, integrationId)
        : undefined;
    // The message, the platform plugin or the integration is gone meanwhile: nothing to do.
    if (!failure || !adapter?.onMessageFailed || !integration) {
      return { result: 'failed', error: 'the message, the platform or the integration is gone' };
    }
    const where = `${platform} ${integrationId}, message ${failure.messageId}`;
    try {
      const done = await withDeadline(
        adapter.onMessageFailed(failure, integration, this.http),
        this.deadlineMs,
        `the ${platform} plugin's feedback`,
      );
      await this.logAttempt(integrationId, e, attempt, 'done', done);
      this.log.log(`${where}: ${done}`);
      return { result: 'delivered' };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const permanent = err instanceof FeedbackError && err.permanent;
      await this.logAttempt(integrationId, e, attempt, permanent ? 'refused' : 'retry', why);
      this.log.warn(
        `${where}: feedback ${permanent ? 'refused, not retried' : `failed (attempt ${attempt}/${FEEDBACK_ATTEMPTS}), tried again later`}: ${why}`,
      );
      return permanent ? { result: 'failed', error: why } : { result: 'retry', error: why };
    }
  }

  /** The attempt log of one integration, newest first. */
  async attempts(integrationId: string, limit: number) {
    const rows = await this.db.session.query<{
      event_id: string;
      message_id: string | null;
      attempt: number;
      outcome: string;
      detail: string;
      created_at: Date;
    }>(
      `SELECT event_id, message_id, attempt, outcome, detail, created_at FROM feedback_deliveries
        WHERE integration_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
      [integrationId, limit],
    );
    return rows.map((r) => ({
      eventId: r.event_id,
      messageId: r.message_id,
      attempt: r.attempt,
      outcome: r.outcome,
      detail: r.detail,
      at: new Date(r.created_at).toISOString(),
    }));
  }
}
