/**
 * Webhook subscriptions of a tenant, their secrets (sealed by the key vault, shown once),
 * and the log of delivery attempts. A subscription is disabled by a 410 answer, or when its
 * calls have failed without a success for WEBHOOK_DISABLE_AFTER_HOURS (and at least
 * MIN_FAILURES_TO_DISABLE times): a short outage never disables it. Disabled, its events
 * wait; enabled again (or by a successful test), they go out in order.
 */
import type { SealedColumn } from '../secrets/rotate-master-key';
import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { MASTER_KEYS } from '../config/tokens';
import { isUuid } from '../common/ids';
import { ENVIRONMENT } from '../config/tokens';
import type { Environment } from '../config/environment';
import { EventDeliveries } from '../events/event-deliveries';
import { MasterKeyRing, openPrivateKey, sealPrivateKey, type KeyOwner } from '../secrets/key-vault';
import type { HistoryTable } from '../database/history';

/** SQL for the relay's delivery read: whether an enabled subscription wants `type` (a literal). */
export const wantsEventSql = (tenant: string, type: string): string =>
  `EXISTS (SELECT 1 FROM webhook_subscriptions w WHERE w.tenant_id = ${tenant}
     AND w.enabled AND '${type.replace(/'/g, "''")}' = ANY (w.events))`;

/** The webhook delivery log, dropped after the retention period. */
export const WEBHOOK_HISTORY: HistoryTable = {
  what: 'webhook delivery log',
  purge: 'DELETE FROM webhook_deliveries WHERE created_at < $1 RETURNING 1',
};

/** Failed calls in a row needed, besides the time, before a subscription is disabled. */
export const MIN_FAILURES_TO_DISABLE = 10;

export interface Subscription {
  id: string;
  tenantId: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  consecutiveFailures: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface AttemptRecord {
  eventId: string;
  eventType: string;
  attempt: number;
  status: number | null;
  latencyMs: number;
  excerpt: string;
  error?: string;
}

/** The key vault's owner of a subscription's secret. */
export const webhookSecretOwner = (tenantId: string, id: string): KeyOwner => ({
  tenantId,
  certificateId: `webhook:${id}`,
});

/** Webhook signing secrets, for master key rotation. */
export const WEBHOOK_SECRETS: SealedColumn = {
  what: 'webhook secrets',
  select: 'SELECT tenant_id, id AS key, sealed_secret AS sealed FROM webhook_subscriptions',
  update:
    'UPDATE webhook_subscriptions SET sealed_secret = $1 WHERE id = $2 AND sealed_secret = $3',
  owner: (row) => webhookSecretOwner(row.tenant_id, row.key),
};

const COLUMNS = `id, tenant_id, url, events, description, enabled, disabled_reason,
  consecutive_failures, created_at, updated_at`;

const subscription = (r: Record<string, never>): Subscription => ({
  id: r.id,
  tenantId: r.tenant_id,
  url: r.url,
  events: r.events,
  description: r.description,
  enabled: r.enabled,
  disabledReason: r.disabled_reason,
  consecutiveFailures: r.consecutive_failures,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const newSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

@Injectable()
export class Subscriptions {
  private readonly disableAfterMs: number;

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(MASTER_KEYS) private readonly keys: MasterKeyRing,
    @Inject(ENVIRONMENT) env: Environment,
    private readonly outbox: EventDeliveries,
  ) {
    this.disableAfterMs = env.WEBHOOK_DISABLE_AFTER_HOURS * 3600_000;
  }

  private seal(tenantId: string, id: string, secret: string): Buffer {
    return sealPrivateKey(Buffer.from(secret, 'utf8'), webhookSecretOwner(tenantId, id), this.keys);
  }

  async create(
    tenantId: string,
    s: { url: string; events: string[]; description?: string },
  ): Promise<{ subscription: Subscription; secret: string }> {
    const id = randomUUID();
    const secret = newSecret();
    const [row] = await this.db.session.query<Record<string, never>>(
      `INSERT INTO webhook_subscriptions (id, tenant_id, url, events, description, sealed_secret)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [id, tenantId, s.url, s.events, s.description ?? null, this.seal(tenantId, id, secret)],
    );
    return { subscription: subscription(row), secret };
  }

  async list(tenantId: string): Promise<Subscription[]> {
    const rows = await this.db.session.query<Record<string, never>>(
      `SELECT ${COLUMNS} FROM webhook_subscriptions WHERE tenant_id = $1 ORDER BY created_at, id`,
      [tenantId],
    );
    return rows.map(subscription);
  }

  async get(tenantId: string, id: string): Promise<Subscription | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.session.query<Record<string, never>>(
      `SELECT ${COLUMNS} FROM webhook_subscriptions WHERE id = $1 AND tenant_id = $2`,
      [id, tenantId],
    );
    return row && subscription(row);
  }

  /** Change url, events, description or enabled; enabling clears the failure count. */
  async update(
    tenantId: string,
    id: string,
    c: { url?: string; events?: string[]; description?: string; enabled?: boolean },
  ): Promise<Subscription | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.session.query<Record<string, never>>(
      `UPDATE webhook_subscriptions SET url = COALESCE($3, url), events = COALESCE($4, events),
         description = COALESCE($5, description), enabled = COALESCE($6, enabled),
         disabled_reason = CASE WHEN $6 IS NULL THEN disabled_reason
                                WHEN $6 THEN NULL ELSE 'disabled through the API' END,
         consecutive_failures = CASE WHEN $6 THEN 0 ELSE consecutive_failures END,
         failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
         updated_at = now()
       WHERE id = $1 AND tenant_id = $2 RETURNING ${COLUMNS}`,
      [id, tenantId, c.url ?? null, c.events ?? null, c.description ?? null, c.enabled ?? null],
    );
    if (row && c.enabled) await this.outbox.resume('webhook', id);
    return row && subscription(row);
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.session.query(
      'DELETE FROM webhook_subscriptions WHERE id = $1 AND tenant_id = $2 RETURNING id',
      [id, tenantId],
    );
    return rows.length > 0;
  }

  /** A new secret, shown once; the old one stops signing at once. */
  async rotateSecret(tenantId: string, id: string): Promise<string | undefined> {
    if (!isUuid(id)) return undefined;
    const secret = newSecret();
    const rows = await this.db.session.query(
      `UPDATE webhook_subscriptions SET sealed_secret = $3, updated_at = now()
       WHERE id = $1 AND tenant_id = $2 RETURNING id`,
      [id, tenantId, this.seal(tenantId, id, secret)],
    );
    return rows.length ? secret : undefined;
  }

  /** The subscription with its secret, for signing a delivery. */
  async forDelivery(id: string): Promise<(Subscription & { secret: string }) | undefined> {
    const [row] = await this.db.session.query<
      Record<string, never> & { sealed_secret: Uint8Array }
    >(`SELECT ${COLUMNS}, sealed_secret FROM webhook_subscriptions WHERE id = $1`, [id]);
    if (!row) return undefined;
    const s = subscription(row);
    const plain = openPrivateKey(
      Buffer.from(row.sealed_secret),
      webhookSecretOwner(s.tenantId, id),
      this.keys,
    );
    return { ...s, secret: plain.toString('utf8') };
  }

  /** Enabled subscriptions of a tenant that want an event type. */
  async wanting(tenantId: string, type: string): Promise<string[]> {
    const rows = await this.db.session.query<{ id: string }>(
      `SELECT id FROM webhook_subscriptions
       WHERE tenant_id = $1 AND enabled AND $2 = ANY (events)`,
      [tenantId, type],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Log an attempt and keep count: success clears the failures (and, for a test, enables the
   * subscription again and releases its waiting events); `gone` disables it; failures
   * disable it only once they have lasted WEBHOOK_DISABLE_AFTER_HOURS without a success.
   */
  async recordAttempt(
    id: string,
    a: AttemptRecord,
    outcome: 'success' | 'retry' | 'fail' | 'gone',
    test = false,
  ): Promise<void> {
    await this.db.session.query(
      `INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, attempt, status,
         latency_ms, response_excerpt, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [id, a.eventId, a.eventType, a.attempt, a.status, a.latencyMs, a.excerpt, a.error ?? null],
    );
    if (outcome === 'success') {
      const [row] = await this.db.session.query<{ released: boolean }>(
        `UPDATE webhook_subscriptions SET consecutive_failures = 0, failing_since = NULL,
           enabled = CASE WHEN $2 THEN true ELSE enabled END,
           disabled_reason = CASE WHEN $2 THEN NULL ELSE disabled_reason END
         WHERE id = $1 RETURNING $2 AND true AS released`,
        [id, test],
      );
      if (row?.released) await this.outbox.resume('webhook', id);
      return;
    }
    const since = `${Math.round(this.disableAfterMs / 3600_000)} h`;
    await this.db.session.query(
      `UPDATE webhook_subscriptions SET consecutive_failures = consecutive_failures + 1,
         failing_since = COALESCE(failing_since, now()),
         enabled = CASE WHEN $2 OR (consecutive_failures + 1 >= $3
           AND COALESCE(failing_since, now()) <= now() - $4 * interval '1 millisecond')
           THEN false ELSE enabled END,
         disabled_reason = CASE
           WHEN NOT enabled THEN disabled_reason
           WHEN $2 THEN 'the receiver answered 410 Gone'
           WHEN consecutive_failures + 1 >= $3
             AND COALESCE(failing_since, now()) <= now() - $4 * interval '1 millisecond'
             THEN $5
           ELSE disabled_reason END,
         updated_at = now()
       WHERE id = $1`,
      [
        id,
        outcome === 'gone',
        MIN_FAILURES_TO_DISABLE,
        this.disableAfterMs,
        `every call failed for ${since}; its events wait until it is enabled again`,
      ],
    );
  }

  async deliveries(tenantId: string, id: string, limit: number) {
    const rows = await this.db.session.query<Record<string, never>>(
      `SELECT d.event_id, d.event_type, d.attempt, d.status, d.latency_ms, d.response_excerpt,
         d.error, d.created_at
       FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
       WHERE d.subscription_id = $1 AND s.tenant_id = $2
       ORDER BY d.created_at DESC, d.id DESC LIMIT $3`,
      [id, tenantId, limit],
    );
    return rows.map((r) => ({
      eventId: r.event_id,
      type: r.event_type,
      attempt: r.attempt,
      status: r.status,
      latencyMs: r.latency_ms,
      response: r.response_excerpt,
      error: r.error,
      at: new Date(r.created_at).toISOString(),
    }));
  }
}
