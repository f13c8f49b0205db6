/**
 * Sends due event deliveries (webhooks, platform feedback) from the outbox in SQL: each
 * round claims what this process has room for, runs the sinks concurrently, and records the
 * outcome: delivered, retried later with backoff (doubling from the sink's first delay up to
 * 4 h, with jitter), given up after the sink's attempts, or paused. Redis is not involved,
 * so nothing is lost when it is flushed or away.
 */
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Environment } from '../config/environment';
import { ENVIRONMENT } from '../config/tokens';
import { Rounds } from '../common/rounds';
import { retryDelayMs } from '../queue/backoff';
import { EventDeliveries, type ClaimedDelivery } from './event-deliveries';
import { EventSinks, type EventRecord, type SinkOutcome } from './event-sinks';

/** Deliveries in flight at once in one process. */
const IN_FLIGHT = 16;
/** A delivery is held this long by the process sending it. */
const LEASE_MS = 120_000;
const MAX_RETRY_DELAY_MS = 4 * 3600_000;

@Injectable()
export class DeliveryRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('EventDelivery');
  private readonly running = new Set<Promise<void>>();
  private readonly rounds = new Rounds(() =>
    this.round().then(
      (claimed) => (claimed > 0 ? 50 : this.intervalMs),
      (e: Error) => {
        this.log.warn(`event deliveries wait for the next round: ${e.message}`);
        return this.intervalMs;
      },
    ),
  );
  private readonly intervalMs: number;

  constructor(
    private readonly deliveries: EventDeliveries,
    private readonly sinks: EventSinks,
    @Inject(ENVIRONMENT) env: Environment,
  ) {
    this.intervalMs = Math.min(env.WEBHOOK_DISPATCH_INTERVAL_SECONDS * 1000, 1000);
  }

  onApplicationBootstrap(): void {
    this.rounds.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.rounds.stop();
    await Promise.allSettled([...this.running]);
  }

  /** One round: claims and starts what there is room for; how many it claimed. */
  async round(): Promise<number> {
    const room = IN_FLIGHT - this.running.size;
    if (room <= 0) return 0;
    const claimed = await this.deliveries.claim(room, LEASE_MS);
    if (!claimed.length) return 0;
    const events = await this.deliveries.events([...new Set(claimed.map((c) => c.eventId))]);
    for (const c of claimed) {
      const run = this.run(c, events.get(c.eventId)).catch((e: Error) =>
        this.log.warn(`delivery ${c.id} is left for a later round: ${e.message}`),
      );
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }
    return claimed.length;
  }

  private async run(c: ClaimedDelivery, event: EventRecord | undefined): Promise<void> {
    const sink = this.sinks.get(c.sink);
    const attempt = c.attempts + 1;
    if (!sink || !event) {
      await this.deliveries.failed(
        c.id,
        c.attempts,
        sink ? 'the event is gone' : `no ${c.sink} sink`,
      );
      return;
    }
    let outcome: SinkOutcome;
    try {
      outcome = await sink.deliver(event, c.targetId, attempt);
    } catch (e) {
      outcome = { result: 'retry', error: e instanceof Error ? e.message : String(e) };
    }
    switch (outcome.result) {
      case 'delivered':
        return this.deliveries.delivered(c.id, attempt);
      case 'paused':
        return this.deliveries.pause(c.id);
      case 'failed':
        return this.deliveries.failed(c.id, attempt, outcome.error);
      case 'retry':
        if (attempt >= sink.maxAttempts) {
          return this.deliveries.failed(
            c.id,
            attempt,
            `given up after ${attempt} attempts: ${outcome.error}`,
          );
        }
        return this.deliveries.retryAt(
          c.id,
          attempt,
          outcome.error,
          new Date(
            Date.now() +
              retryDelayMs(attempt, {
                initialMs: sink.initialRetryMs,
                maxMs: MAX_RETRY_DELAY_MS,
                giveUpAfterMs: 0,
              }),
          ),
        );
    }
  }
}
