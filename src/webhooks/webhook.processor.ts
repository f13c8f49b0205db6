/**
 * Delivers webhook jobs: signs and POSTs the event (src/webhooks/webhook-sender.ts), logs
 * the attempt, and lets BullMQ retry what is worth retrying (timeouts, network errors,
 * 408, 429, 5xx). Other answers end the job; 410 also disables the subscription.
 */
import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Job, WorkerOptions } from 'bullmq';
import { ENVIRONMENT } from '../config/tokens';
import type { Environment } from '../config/environment';
import { throttledWarning } from '../relay/relay-queue';
import { Subscriptions } from './subscriptions';
import { WEBHOOK_QUEUE, withRetrySchedule, type WebhookJob } from './webhook-queue';
import { classifyWebhookResponse, sendWebhook } from './webhook-sender';

/** Thrown to make BullMQ try the job again later. */
class RetryLater extends Error {
  override readonly name = 'RetryLater';
}

@Injectable()
export class WebhookProcessor extends WorkerHost implements BeforeApplicationShutdown {
  private readonly warn = throttledWarning(new Logger('WebhookWorker'));

  constructor(
    @Inject(ENVIRONMENT) private readonly env: Environment,
    private readonly subscriptions: Subscriptions,
  ) {
    super();
  }

  async process(job: Job<WebhookJob>): Promise<void> {
    const sub = await this.subscriptions.forDelivery(job.data.subscriptionId);
    if (!sub || !sub.enabled) return; // removed or disabled meanwhile: nothing to send
    const response = await sendWebhook({
      url: sub.url,
      secret: sub.secret,
      id: job.data.eventId,
      // Each attempt is signed with its own time: receivers refuse old timestamps.
      timestamp: new Date(),
      payload: job.data.payload,
      timeoutMs: this.env.WEBHOOK_TIMEOUT_SECONDS * 1000,
      allowPrivate: this.env.WEBHOOK_ALLOW_PRIVATE,
    });
    const outcome = classifyWebhookResponse(response);
    await this.subscriptions.recordAttempt(
      sub.id,
      {
        eventId: job.data.eventId,
        eventType: job.data.type,
        attempt: job.attemptsMade + 1,
        status: response.status,
        latencyMs: response.latencyMs,
        excerpt: response.excerpt,
        error: response.error,
      },
      outcome,
    );
    if (outcome === 'retry') {
      throw new RetryLater(response.error ?? `the receiver answered ${response.status}`);
    }
  }

  @OnWorkerEvent('error')
  onError(e: Error): void {
    this.warn(`webhook worker: ${e.message}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }
}

/** The processor class with this process's worker options and retry schedule. */
export const configuredWebhookProcessor = (options: WorkerOptions, initialRetryMs: number) =>
  withRetrySchedule(WebhookProcessor, WEBHOOK_QUEUE, options, initialRetryMs);
