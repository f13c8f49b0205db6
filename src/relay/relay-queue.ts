/**
 * The relay's BullMQ queue: one job per message, whose job id is the message id, so a
 * message is never queued twice. Jobs carry only the id; the spool holds the rest.
 */
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { Gauge } from 'prom-client';
import { Metrics } from '../health/metrics';
import type { HandedOver } from './attempt-outcome';

export const RELAY_QUEUE = 'relay';

export interface RelayJob {
  messageId: string;
  /** Set by a run whose hand-over the spool has not recorded yet. */
  handedOver?: HandedOver;
}

/**
 * The backoff of a job whose attempt threw (the database away, say): doubling from 5 s but
 * never more than a minute, so a long outage does not push the next try hours away.
 */
export const UNEXPECTED_ERROR_BACKOFF = 'capped-exponential';
const BACKOFF_CAP_MS = 60_000;

/** The worker's backoff strategy for UNEXPECTED_ERROR_BACKOFF (BullMQ `settings.backoffStrategy`). */
export function cappedBackoff(attemptsMade: number, type?: string): number {
  if (type !== UNEXPECTED_ERROR_BACKOFF) return -1; // not ours: no retry
  const exponent = Math.min(Math.max(attemptsMade - 1, 0), 30);
  return Math.min(BACKOFF_CAP_MS, 5_000 * 2 ** exponent);
}

export const JOB_OPTIONS: JobsOptions = {
  // Done or given up jobs leave Redis: the spool keeps the record, and a later retry of
  // the same message can use the same job id again.
  removeOnComplete: true,
  removeOnFail: true,
  // An unexpected error (database down) is retried by BullMQ; delivery failures are
  // rescheduled by the processor itself and do not count here.
  attempts: 1_000_000,
  backoff: { type: UNEXPECTED_ERROR_BACKOFF, delay: 5_000 },
};

@Injectable()
export class RelayQueue {
  private readonly log = new Logger('RelayQueue');
  /** The Redis outage this process's queue connection is in, if any. */
  private outage?: { since: number; unqueued: number };
  private readonly whenBack: (() => void)[] = [];

  constructor(
    @InjectQueue(RELAY_QUEUE) readonly queue: Queue<RelayJob>,
    metrics: Metrics,
  ) {
    // One line when Redis goes away and one when it answers again, however much mail
    // arrives in between.
    queue.on('error', (e) => this.lost(e.message));
    queue.on('ioredis:close', () => this.lost('connection closed'));
    queue.client.then(
      (client) => client.on('ready', () => this.back()),
      () => undefined, // never connected: enqueue and recovery report it
    );
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

  /** Call `f` each time Redis answers again after an outage (recovery runs then). */
  onBack(f: () => void): void {
    this.whenBack.push(f);
  }

  private lost(reason: string): void {
    if (this.outage) return;
    this.outage = { since: Date.now(), unqueued: 0 };
    this.log.warn(
      `Redis does not answer (${reason}): mail is still accepted and kept in the database, ` +
        'and queued as soon as Redis answers again',
    );
  }

  private back(): void {
    const o = this.outage;
    if (!o) return;
    this.outage = undefined;
    const seconds = Math.round((Date.now() - o.since) / 1000);
    this.log.log(
      `Redis answers again after ${seconds} s` +
        (o.unqueued ? `; ${o.unqueued} message(s) accepted meanwhile are being queued` : ''),
    );
    for (const f of this.whenBack) f();
  }

  /**
   * Schedule a message. A failure to reach Redis is counted, not thrown: the message is
   * already committed, and recovery enqueues it once Redis is back.
   */
  async enqueue(messageId: string, at?: Date): Promise<boolean> {
    const delay = at ? Math.max(0, at.getTime() - Date.now()) : 0;
    try {
      await this.queue.add('deliver', { messageId }, { ...JOB_OPTIONS, jobId: messageId, delay });
      if (this.outage) this.back();
      return true;
    } catch (e) {
      this.lost((e as Error).message);
      this.outage!.unqueued++;
      return false;
    }
  }

  /** Whether BullMQ still has a job for the message (waiting, delayed, active, …). */
  async has(messageId: string): Promise<boolean> {
    const state = await this.queue.getJobState(messageId);
    return state !== 'unknown' && state !== 'completed' && state !== 'failed';
  }
}
