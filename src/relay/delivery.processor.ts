/**
 * The BullMQ worker: each job is one delivery attempt of one message. A deferred message
 * is moved back to the delayed set for its next attempt (it does not count as a BullMQ
 * failure); an unexpected error (database down) is retried by BullMQ with backoff. The job's
 * data keeps what a run handed to the upstream until the spool has recorded it.
 */
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { DelayedError, type Job, type WorkerOptions } from 'bullmq';
import { SignAndDeliver } from './sign-and-deliver';
import { RELAY_QUEUE, type RelayJob } from './relay-queue';
import { throttledWarning } from '../queue/throttled-warning';

@Injectable()
export class DeliveryProcessor extends WorkerHost implements BeforeApplicationShutdown {
  private readonly warn = throttledWarning(new Logger('DeliveryWorker'));

  constructor(private readonly courier: SignAndDeliver) {
    super();
  }

  /**
   * Redis trouble, or a job whose keys vanished (FLUSHALL) after its message was already
   * recorded: the spool stays right, and recovery queues what is unfinished.
   */
  @OnWorkerEvent('error')
  onError(e: Error): void {
    this.warn(`worker: ${e.message}`);
  }

  async process(job: Job<RelayJob>, token?: string): Promise<void> {
    const result = await this.courier.attempt(job.data.messageId, new Date(), {
      earlier: job.data.handedOver,
      remember: (handedOver) => job.updateData({ ...job.data, handedOver }),
    });
    if (!result.done) {
      await job.moveToDelayed(result.retryAt.getTime(), token);
      throw new DelayedError();
    }
  }

  /** Stop taking jobs and let the ones in flight finish, before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }
}

/** The processor class with this process's worker options (concurrency, lock duration). */
export function configuredProcessor(options: WorkerOptions): typeof DeliveryProcessor {
  class ConfiguredDeliveryProcessor extends DeliveryProcessor {}
  Processor(RELAY_QUEUE, options)(ConfiguredDeliveryProcessor);
  return ConfiguredDeliveryProcessor;
}
