/**
 * Webhooks as an event sink: the enabled or disabled subscriptions of the tenant that list
 * an event's type are its targets; a delivery signs and POSTs the event
 * (webhook-sender.ts) and logs the attempt. Timeouts, network errors, 408, 429 and 5xx are
 * tried again; other answers end the delivery; 410 disables the subscription, and its
 * deliveries wait (paused) until it is enabled again, as do those of any disabled one.
 */
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Environment } from '../config/environment';
import { ENVIRONMENT } from '../config/tokens';
import type { SqlSession } from '../database/migrator';
import {
  EventSinks,
  type EventRecord,
  type EventSink,
  type SinkOutcome,
} from '../events/event-sinks';
import { Subscriptions } from './subscriptions';
import { classifyWebhookResponse, sendWebhook } from './webhook-sender';

/** Attempts in all: with the default 30 s start this spans about 24 h. */
export const WEBHOOK_ATTEMPTS = 15;

/** The body of a call, as signed and sent on every attempt. */
export const webhookPayload = (e: EventRecord): string =>
  JSON.stringify({ type: e.type, timestamp: e.createdAt.toISOString(), data: e.data });

@Injectable()
export class WebhookSink implements EventSink, OnModuleInit {
  readonly name = 'webhook';
  readonly maxAttempts = WEBHOOK_ATTEMPTS;
  readonly initialRetryMs: number;

  constructor(
    @Inject(ENVIRONMENT) private readonly env: Environment,
    private readonly subscriptions: Subscriptions,
    private readonly sinks: EventSinks,
  ) {
    this.initialRetryMs = env.WEBHOOK_RETRY_INITIAL_SECONDS * 1000;
  }

  onModuleInit(): void {
    this.sinks.register(this);
  }

  async targets(tx: SqlSession, events: EventRecord[]) {
    const subs = await tx.query<{ tenant_id: string; id: string; events: string[] }>(
      'SELECT tenant_id, id, events FROM webhook_subscriptions WHERE tenant_id = ANY ($1::uuid[])',
      [[...new Set(events.map((e) => e.tenantId))]],
    );
    return events.flatMap((e) =>
      subs
        .filter((s) => s.tenant_id === e.tenantId && s.events.includes(e.type))
        .map((s) => ({ eventId: e.id, targetId: s.id })),
    );
  }

  async deliver(event: EventRecord, subscriptionId: string, attempt: number): Promise<SinkOutcome> {
    const sub = await this.subscriptions.forDelivery(subscriptionId);
    if (!sub) return { result: 'failed', error: 'the subscription was removed' };
    if (!sub.enabled) return { result: 'paused' };
    const response = await sendWebhook({
      url: sub.url,
      secret: sub.secret,
      id: event.id,
      // Each attempt is signed with its own time: receivers refuse old timestamps.
      timestamp: new Date(),
      payload: webhookPayload(event),
      timeoutMs: this.env.WEBHOOK_TIMEOUT_SECONDS * 1000,
      allowPrivate: this.env.WEBHOOK_ALLOW_PRIVATE,
    });
    const outcome = classifyWebhookResponse(response);
    await this.subscriptions.recordAttempt(
      sub.id,
      {
        eventId: event.id,
        eventType: event.type,
        attempt,
        status: response.status,
        latencyMs: response.latencyMs,
        excerpt: response.excerpt,
        error: response.error,
      },
      outcome,
    );
    const why = response.error ?? `the receiver answered ${response.status}`;
    switch (outcome) {
      case 'success':
        return { result: 'delivered' };
      case 'retry':
        return { result: 'retry', error: why };
      case 'gone':
        return { result: 'paused' };
      default:
        return { result: 'failed', error: why };
    }
  }
}
