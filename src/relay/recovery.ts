/**
 * Recovery, at start-up, every RECOVERY_INTERVAL_SECONDS and as soon as Redis answers again
 * after an outage: every unfinished message whose job is missing from Redis (after a Redis
 * restart, a FLUSHALL, a lost enqueue) is queued again for its scheduled time. Delivered and failed messages are never touched,
 * so nothing is sent twice. The same pass drops raw bodies past their retention.
 */
import { HISTORY_TABLES, type HistoryTable } from '../database/history';
import { UnsubscribeLinks } from '../unsubscribe/unsubscribe-links';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ENVIRONMENT } from '../config/tokens';
import type { Environment } from '../config/environment';
import { Rounds } from '../common/rounds';
import { Spool } from './spool';
import { RelayQueue } from './relay-queue';

const PAGE = 500;

@Injectable()
export class Recovery implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('Recovery');
  private readonly rounds = new Rounds(() =>
    this.pass()
      .catch((e) => this.log.warn(`recovery pass failed, will try again: ${(e as Error).message}`))
      .then(() => this.env.RECOVERY_INTERVAL_SECONDS * 1000),
  );
  private historyPurgedAt = 0;

  constructor(
    @Inject(ENVIRONMENT) private readonly env: Environment,
    private readonly spool: Spool,
    private readonly queue: RelayQueue,
    private readonly unsubscribeLinks: UnsubscribeLinks,
    @Inject(HISTORY_TABLES) private readonly history: readonly HistoryTable[],
  ) {}

  onApplicationBootstrap(): void {
    this.rounds.start();
    // After a Redis outage, queue what was accepted meanwhile at once, not at the next pass.
    this.queue.onBack(() => this.rounds.now());
  }

  /** One pass; returns how many messages were queued again and bodies dropped. */
  async pass(): Promise<{ requeued: number; purged: number }> {
    let requeued = 0;
    let after: { at: string; id: string } | undefined;
    for (;;) {
      const page = await this.spool.unfinished(PAGE, after);
      if (page.length === 0) break;
      const present = await Promise.all(page.map((m) => this.queue.has(m.id)));
      for (const [i, m] of page.entries()) {
        if (present[i]) continue;
        if (await this.queue.enqueue(m.id, m.nextAttemptAt)) requeued++;
      }
      if (this.rounds.stopping || page.length < PAGE) break;
      after = page[page.length - 1].cursor;
    }
    const purged = await this.spool.purgeBodies(
      new Date(Date.now() - this.env.RETENTION_DAYS * 86_400_000),
    );
    // Event and webhook delivery history is kept 30 days, or RETENTION_DAYS if longer;
    // swept hourly.
    if (Date.now() - this.historyPurgedAt > 3600_000) {
      await this.spool.purgeHistory(
        new Date(Date.now() - Math.max(30, this.env.RETENTION_DAYS) * 86_400_000),
        this.history,
      );
      await this.unsubscribeLinks.purge();
      this.historyPurgedAt = Date.now();
    }
    if (requeued) this.log.log(`queued ${requeued} unfinished message(s) again`);
    if (purged) this.log.log(`dropped the bodies of ${purged} finished message(s) past retention`);
    return { requeued, purged };
  }

  async onModuleDestroy(): Promise<void> {
    await this.rounds.stop();
  }
}
