import { Processor } from '@nestjs/bullmq';
import type { Type } from '@nestjs/common';
import type { WorkerOptions } from 'bullmq';
/**
 * The webhook queue: one job per event and subscription (job id `<event>_<subscription>`,
 * so an event reaches a subscription once). Retries back off from
 * WEBHOOK_RETRY_INITIAL_SECONDS, doubling up to 4 h, with jitter: about 24 h in all.
 */
export const WEBHOOK_QUEUE = 'webhooks';

export interface WebhookJob {
  eventId: string;
  subscriptionId: string;
  type: string;
  /** The JSON body, as signed and sent on every attempt. */
  payload: string;
  /** The event's time (ISO). */
  timestamp: string;
}

/** Attempts in all: with the default 30 s start this spans about 24 h. */
export const WEBHOOK_ATTEMPTS = 15;
const MAX_DELAY_MS = 4 * 3600_000;

/** The delay before retry `attemptsMade` (1 = the first retry), with jitter in the upper half. */
export function webhookRetryDelayMs(
  attemptsMade: number,
  initialMs: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(initialMs * 2 ** Math.min(Math.max(attemptsMade - 1, 0), 30), MAX_DELAY_MS);
  return Math.round(base / 2 + (base / 2) * random());
}

/**
 * A subclass of `base` that processes `queue` with these worker options and the backoff
 * schedule above (webhooks, platform feedback).
 */
export function withRetrySchedule<T extends Type<object>>(
  base: T,
  queue: string,
  options: WorkerOptions,
  initialRetryMs: number,
): T {
  const configured = class extends base {};
  Processor(queue, {
    ...options,
    settings: {
      backoffStrategy: (attemptsMade: number) => webhookRetryDelayMs(attemptsMade, initialRetryMs),
    },
  })(configured);
  return configured;
}
