/**
 * Hands recorded events to the webhook queue, and failures of platform messages to the
 * platform feedback queue: every WEBHOOK_DISPATCH_INTERVAL_SECONDS it
 * takes undispatched events (skipping rows another instance holds), queues one job per
 * subscription that wants each, and marks them dispatched in the same transaction. If Redis
 * refuses, the transaction rolls back and the events wait for the next round.
 */
import { InjectQueue } from '@nestjs/bullmq';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Database } from '../database/connection';
import { Rounds } from '../common/rounds';
import { DATABASE } from '../database/database.module';
import { ENVIRONMENT } from '../config/tokens';
import type { Environment } from '../config/environment';
import { WEBHOOK_ATTEMPTS, WEBHOOK_QUEUE, type WebhookJob } from './webhook-queue';
import { FEEDBACK_QUEUE, feedbackJobsFor, type FeedbackJob } from '../integrations/feedback-queue';

const BATCH = 200;

interface EventRow {
  id: string;
  tenant_id: string;
  type: string;
  message_id: string | null;
  data: Record<string, unknown>;
  created_at: Date;
}

@Injectable()
export class Dispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('WebhookDispatcher');
  private readonly rounds = new Rounds(() => {
    const interval = this.env.WEBHOOK_DISPATCH_INTERVAL_SECONDS * 1000;
    return this.dispatch()
      .then((n) => (n === BATCH ? 0 : interval))
      .catch((e: Error) => {
        this.log.warn(`events wait for the next round: ${e.message}`);
        return interval;
      });
  });

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @InjectQueue(WEBHOOK_QUEUE) private readonly queue: Queue<WebhookJob>,
    @InjectQueue(FEEDBACK_QUEUE) private readonly feedback: Queue<FeedbackJob>,
  ) {}

  onApplicationBootstrap(): void {
    this.rounds.start();
  }

  /** One round; returns how many events it took. */
  async dispatch(): Promise<number> {
    return this.db.session.transaction(async (tx) => {
      const events = await tx.query<EventRow>(
        `SELECT id, tenant_id, type, message_id, data, created_at FROM events WHERE dispatched_at IS NULL
         ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [BATCH],
      );
      if (events.length === 0) return 0;
      const wanted = await tx.query<{ tenant_id: string; id: string; events: string[] }>(
        `SELECT tenant_id, id, events FROM webhook_subscriptions
         WHERE enabled AND tenant_id = ANY ($1::uuid[])`,
        [[...new Set(events.map((e) => e.tenant_id))]],
      );
      const jobs = events.flatMap((e) =>
        wanted
          .filter((s) => s.tenant_id === e.tenant_id && s.events.includes(e.type))
          .map((s) => {
            const timestamp = new Date(e.created_at).toISOString();
            const data: WebhookJob = {
              eventId: e.id,
              subscriptionId: s.id,
              type: e.type,
              timestamp,
              payload: JSON.stringify({ type: e.type, timestamp, data: e.data }),
            };
            return {
              name: e.type,
              data,
              opts: {
                jobId: `${e.id}_${s.id}`,
                attempts: WEBHOOK_ATTEMPTS,
                backoff: { type: 'custom' },
                removeOnComplete: true,
                removeOnFail: true,
              },
            };
          }),
      );
      const feedback = await feedbackJobsFor(tx, events);
      if (jobs.length) await this.queue.addBulk(jobs);
      if (feedback.length) await this.feedback.addBulk(feedback);
      await tx.query('UPDATE events SET dispatched_at = now() WHERE id = ANY ($1::uuid[])', [
        events.map((e) => e.id),
      ]);
      return events.length;
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.rounds.stop();
  }
}
