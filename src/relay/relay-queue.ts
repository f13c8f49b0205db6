/**
 * The relay's BullMQ queue: one job per message, whose job id is the message id, so a
 * message is never queued twice. Jobs carry only the id; the spool holds the rest.
 */
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { Gauge } from 'prom-client';
import { Metrics } from '../health/metrics';
import { throttledWarning } from '../queue/throttled-warning';
import type { HandedOver } from './attempt-outcome';

export const RELAY_QUEUE = 'relay';

export interface RelayJob {
  messageId: string;
  /** Set by a run whose hand-over the spool has not recorded yet. */
  handedOver?: HandedOver;
}

export const JOB_OPTIONS: JobsOptions = {
  // Done or given up jobs leave Redis: the spool keeps the record, and a later retry of
  // the same message can use the same job id again.
  removeOnComplete: true,
  removeOnFail: true,
  // An unexpected error (database down) is retried by BullMQ; delivery failures are
  // rescheduled by the processor itself and do not count here.
  attempts: 1_000_000,
  backoff: { type: 'exponential', delay: 5_000 },
};

@Injectable()
export class RelayQueue {
  private readonly log = new Logger('RelayQueue');

  private readonly warnRedis = throttledWarning(this.log);

  constructor(
    @InjectQueue(RELAY_QUEUE) readonly queue: Queue<RelayJob>,
    metrics: Metrics,
  ) {
    queue.on('error', (e) => this.warnRedis(`Redis: ${e.message}`));
    // Jobs by state, read from Redis at each scrape: how far the workers are behind.
    new Gauge({
      name: 'smime_relay_queue_jobs',
      help: 'Jobs in the relay queue by state (waiting, delayed, active), shared by every process',
      labelNames: ['state'] as const,
      registers: [metrics.registry],
      async collect() {
        try {
          const counts = await queue.getJobCounts('waiting', 'delayed', 'active');
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
        } catch {
          this.reset(); // Redis unreachable: no figure rather than a stale one
        }
      },
    });
  }

  /**
   * Schedule a message. A failure to reach Redis is logged, not thrown: the message is
   * already committed, and recovery enqueues it once Redis is back.
   */
  async enqueue(messageId: string, at?: Date): Promise<boolean> {
    const delay = at ? Math.max(0, at.getTime() - Date.now()) : 0;
    try {
      await this.queue.add('deliver', { messageId }, { ...JOB_OPTIONS, jobId: messageId, delay });
      return true;
    } catch (e) {
      this.log.warn(
        `message ${messageId} is spooled but not queued yet (${(e as Error).message}); recovery will queue it`,
      );
      return false;
    }
  }

  /** Whether BullMQ still has a job for the message (waiting, delayed, active, …). */
  async has(messageId: string): Promise<boolean> {
    const state = await this.queue.getJobState(messageId);
    return state !== 'unknown' && state !== 'completed' && state !== 'failed';
  }
}
