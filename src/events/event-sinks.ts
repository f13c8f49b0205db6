/**
 * Where events go once recorded: each sink (webhooks, platform feedback) says which of its
 * targets want an event, and delivers one event to one target. The delivery runner owns the
 * schedule, the retries and the bookkeeping; a sink only answers what happened.
 */
import { Injectable } from '@nestjs/common';
import type { SqlSession } from '../database/migrator';

export type SinkName = 'webhook' | 'feedback';

export interface EventRecord {
  id: string;
  tenantId: string;
  type: string;
  messageId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

/** What a sink says about one attempt. */
export type SinkOutcome =
  | { result: 'delivered' }
  /** Worth trying again later. */
  | { result: 'retry'; error: string }
  /** Given up for good (a refusal, the target gone). */
  | { result: 'failed'; error: string }
  /** The target does not take deliveries now (a disabled subscription): keep it waiting. */
  | { result: 'paused' };

export interface EventSink {
  readonly name: SinkName;
  /** Attempts in all before a delivery is given up. */
  readonly maxAttempts: number;
  /** The first retry's delay; it doubles up to 4 h, with jitter. */
  readonly initialRetryMs: number;
  /** The targets of these events, inside the dispatcher's transaction. */
  targets(tx: SqlSession, events: EventRecord[]): Promise<{ eventId: string; targetId: string }[]>;
  /** Whether a target takes deliveries now (the runner skips paused targets). */
  deliver(event: EventRecord, targetId: string, attempt: number): Promise<SinkOutcome>;
}

/** The sinks of this process, registered by their modules at start-up. */
@Injectable()
export class EventSinks {
  private readonly sinks = new Map<SinkName, EventSink>();

  register(sink: EventSink): void {
    this.sinks.set(sink.name, sink);
  }

  get(name: SinkName): EventSink | undefined {
    return this.sinks.get(name);
  }

  all(): EventSink[] {
    return [...this.sinks.values()];
  }
}
