/**
 * Reports a failed platform message to one of the tenant's integrations with that platform
 * (one job each): the adapter's onMessageFailed. A transient FeedbackError
 * (or any unexpected error) makes BullMQ try again later; a permanent one is logged and
 * the job ends.
 */
import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Job, WorkerOptions } from 'bullmq';
import { FeedbackError, PlatformRegistry } from '../plugin/contract';
import { throttledWarning } from '../relay/relay-queue';
import { withRetrySchedule } from '../webhooks/webhook-queue';
import { FEEDBACK_ATTEMPTS, FEEDBACK_QUEUE, type FeedbackJob } from './feedback-queue';
import { IntegrationStore } from './integration-store';
import { PlatformHttp } from './platform-http';

@Injectable()
export class FeedbackProcessor extends WorkerHost implements BeforeApplicationShutdown {
  private readonly log = new Logger('PlatformFeedback');
  private readonly warn = throttledWarning(this.log);

  constructor(
    private readonly platforms: PlatformRegistry,
    private readonly store: IntegrationStore,
    private readonly http: PlatformHttp,
  ) {
    super();
  }

  async process(job: Job<FeedbackJob>): Promise<void> {
    const { platform, integrationId, failure } = job.data;
    const adapter = this.platforms.get(platform);
    const integration = await this.store.openedOne(failure.tenantId, platform, integrationId);
    // A platform plugin no longer loaded, or an integration removed meanwhile: nothing to do.
    if (!adapter?.onMessageFailed || !integration) return;
    const where = `${platform} ${integrationId}, message ${failure.messageId}`;
    try {
      const done = await adapter.onMessageFailed(failure, integration, this.http);
      this.log.log(`${where}: ${done}`);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      if (e instanceof FeedbackError && e.permanent) {
        this.log.warn(`${where}: feedback refused, not retried: ${why}`);
        return;
      }
      const attempt = `attempt ${job.attemptsMade + 1}/${FEEDBACK_ATTEMPTS}`;
      this.log.warn(`${where}: feedback failed (${attempt}), tried again later: ${why}`);
      throw e;
    }
  }

  @OnWorkerEvent('error')
  onError(e: Error): void {
    this.warn(`feedback worker: ${e.message}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }
}

/** The processor class with this process's worker options and retry schedule. */
export const configuredFeedbackProcessor = (options: WorkerOptions, initialRetryMs: number) =>
  withRetrySchedule(FeedbackProcessor, FEEDBACK_QUEUE, options, initialRetryMs);
