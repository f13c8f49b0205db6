/**
 * Hands recorded events to their receivers: every WEBHOOK_DISPATCH_INTERVAL_SECONDS it takes
 * undispatched events (skipping rows another instance holds), asks each sink (webhooks,
 * platform feedback) for the targets that want them, adds one delivery per event and target
 * to the outbox, and marks the events dispatched, all in one transaction. The delivery
 * runner sends them from there.
 */
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { ENVIRONMENT } from '../config/tokens';
import type { Environment } from '../config/environment';
import { Rounds } from '../common/rounds';
import { EventDeliveries } from './event-deliveries';
import { EVENT_COLUMNS, eventRecordOf, type EventRow } from './event-log';
import { EventSinks, type EventRecord } from './event-sinks';

const BATCH = 200;

@Injectable()
export class Dispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('EventDispatcher');
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
    private readonly sinks: EventSinks,
    private readonly deliveries: EventDeliveries,
  ) {}

  onApplicationBootstrap(): void {
    this.rounds.start();
  }

  /** One round; returns how many events it took. */
  async dispatch(): Promise<number> {
    return this.db.session.transaction(async (tx) => {
      const rows = await tx.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events
          WHERE dispatched_at IS NULL
          ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [BATCH],
      );
      if (rows.length === 0) return 0;
      const events: EventRecord[] = rows.map(eventRecordOf);
      const byId = new Map(events.map((e) => [e.id, e]));
      for (const sink of this.sinks.all()) {
        const targets = await sink.targets(tx, events);
        await this.deliveries.add(
          tx,
          targets.map((t) => ({
            eventId: t.eventId,
            tenantId: byId.get(t.eventId)!.tenantId,
            sink: sink.name,
            targetId: t.targetId,
            at: byId.get(t.eventId)!.createdAt,
          })),
        );
      }
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
