/**
 * The feedback queue: one job per failed message that belongs to a platform integration
 * (job id `feedback_<event id>`, so a failure is reported once). Jobs are added by the
 * event dispatcher in the same transaction that marks the event dispatched; retries back
 * off from FEEDBACK_RETRY_INITIAL_SECONDS, doubling up to 4 h (about 24 h in all).
 */
import type { FailedMessage } from '../plugin/contract';

export const FEEDBACK_QUEUE = 'platform-feedback';
export const FEEDBACK_ATTEMPTS = 15;

export interface FeedbackJob {
  eventId: string;
  platform: string;
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
  const owned = await tx.query<{ id: string; meta: Record<string, string> }>(
    `SELECT m.id, m.meta FROM messages m
     WHERE m.id = ANY ($1::uuid[]) AND m.meta->>'platform' IS NOT NULL
       AND EXISTS (SELECT 1 FROM integrations i
                   WHERE i.tenant_id = m.tenant_id AND i.platform = m.meta->>'platform')`,
    [failures.map((e) => e.message_id)],
  );
  const metaOf = new Map(owned.map((m) => [m.id, m.meta]));
  return failures.flatMap((e) => {
    const meta = metaOf.get(e.message_id as string);
    if (!meta) return [];
    const d = e.data as {
      tenantId: string;
      recipients?: string[];
      error?: FailedMessage['error'];
    };
    const job: FeedbackJob = {
      eventId: e.id,
      platform: meta.platform,
      failure: {
        messageId: e.message_id as string,
        tenantId: d.tenantId,
        recipients: d.recipients ?? [],
        stage: FAILURE_EVENTS[e.type],
        error: d.error ?? { code: 'internal_error', message: 'the message failed' },
        meta,
      },
    };
    return [
      {
        name: meta.platform,
        data: job,
        opts: {
          jobId: `feedback_${e.id}`,
          attempts: FEEDBACK_ATTEMPTS,
          backoff: { type: 'custom' },
          removeOnComplete: true,
          removeOnFail: true,
        },
      },
    ];
  });
}
