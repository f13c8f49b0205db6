/**
 * The feedback queue: one job per failed message and platform integration. The job id
 * `feedback_<event id>_<integration id>` is kept a day after the job completes, so a failure
 * reaches each integration once even if the dispatcher's transaction is repeated. Jobs are
 * added by the event dispatcher in the transaction that marks the event dispatched; retries
 * back off from FEEDBACK_RETRY_INITIAL_SECONDS, doubling up to 4 h (about 24 h in all).
 */
import type { FailedMessage } from '../plugin/contract';
import { isRecipientRefusal } from '../relay/delivery-errors';

export const FEEDBACK_QUEUE = 'platform-feedback';
export const FEEDBACK_ATTEMPTS = 15;

export interface FeedbackJob {
  eventId: string;
  platform: string;
  integrationId: string;
  failure: FailedMessage;
}

/** The event types that end a message as failed, and the stage each stands for. */
export const FAILURE_EVENTS: Record<string, FailedMessage['stage']> = {
  'message.delivery_failed': 'delivery',
  'message.signing_failed': 'signing',
};

interface FailureEvent {
  id: string;
  type: string;
  message_id: string | null;
  data: Record<string, unknown>;
}

/**
 * The feedback jobs for these events: failures of messages whose meta names a platform
 * the tenant has an integration with. Runs inside the dispatcher's transaction.
 */
export async function feedbackJobsFor(
  tx: { query<T>(sql: string, params?: unknown[]): Promise<T[]> },
  events: FailureEvent[],
): Promise<{ name: string; data: FeedbackJob; opts: object }[]> {
  const failures = events.filter((e) => FAILURE_EVENTS[e.type] && e.message_id);
  if (failures.length === 0) return [];
  const owned = await tx.query<{
    id: string;
    meta: Record<string, string>;
    integrations: string[];
  }>(
    `SELECT m.id, m.meta,
       array(SELECT i.id::text FROM integrations i
             WHERE i.tenant_id = m.tenant_id AND i.platform = m.meta->>'platform'
             ORDER BY i.created_at, i.id) AS integrations
     FROM messages m
     WHERE m.id = ANY ($1::uuid[]) AND m.meta->>'platform' IS NOT NULL`,
    [failures.map((e) => e.message_id)],
  );
  const byMessage = new Map(owned.map((m) => [m.id, m]));
  return failures.flatMap((e) => {
    const owner = byMessage.get(e.message_id as string);
    if (!owner) return [];
    const d = e.data as {
      tenantId: string;
      recipients?: string[];
      error?: FailedMessage['error'];
    };
    const error = d.error ?? { code: 'internal_error', message: 'the message failed' };
    const failure: FailedMessage = {
      messageId: e.message_id as string,
      tenantId: d.tenantId,
      recipients: d.recipients ?? [],
      stage: FAILURE_EVENTS[e.type],
      error,
      recipientRefused: isRecipientRefusal(error.code, error.reply),
      meta: owner.meta,
    };
    return owner.integrations.map((integrationId) => ({
      name: owner.meta.platform,
      data: { eventId: e.id, platform: owner.meta.platform, integrationId, failure },
      opts: {
        jobId: `feedback_${e.id}_${integrationId}`,
        attempts: FEEDBACK_ATTEMPTS,
        backoff: { type: 'custom' },
        removeOnComplete: { age: 86_400 },
        removeOnFail: true,
      },
    }));
  });
}
