/**
 * Intake: every inbound adapter hands its messages here. The checks run before anything
 * is accepted, and a message is accepted only once its row is committed:
 *   - the tenant exists;
 *   - From: holds exactly one address;
 *   - the message can be signed as it is (the engine's MIME checks);
 *   - a valid certificate of this tenant covers the From address (`from_mismatch` when the
 *     tenant has certificates for other addresses, `no_certificate` when it has none), or
 *     the tenant's policy is `prefer` and the message may go out unsigned;
 *   - the tenant has an upstream to deliver to.
 * A message whose recipients fall under different per-domain rules of the tenant (see
 * tenants/recipient-policy.ts) is split into one message per rule; recipients the tenant
 * listed as `unsigned` need no certificate.
 * A message whose header a platform adapter recognises (Mautic's X-EMAIL-ID, listmonk's
 * X-Listmonk-Campaign) keeps the adapter's meta, so failures can be reported back.
 */
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { ENVIRONMENT } from '../config/tokens';
import type { Environment } from '../config/environment';
import {
  PlatformRegistry,
  PLATFORM_META,
  type Accepted,
  type HeaderLookup,
  type Intake as IntakeContract,
  type RelayMessage,
  type Refusal,
} from '../plugin/contract';
import { fieldValueOf, readHeader, type HeaderRead } from '../plugin/header-reader';
import { RelayError } from '../plugin/relay-error';
import { fromAddressOf, prepareMessage } from '../smime';
import { isUuid } from '../common/ids';
import { Spool } from './spool';
import { RelayQueue } from './relay-queue';
import { Metrics } from '../health/metrics';
import { RecentBodies } from './recent-bodies';
import { uncoveredFrom } from '../certificates/uncovered-from';
import { certificateSql } from '../certificates/certificates.repository';
import { tenantSql } from '../tenants/tenants.repository';
import { groupRecipients, type RecipientRule } from '../tenants/recipient-policy';
import { TenantChanges } from '../tenants/tenant-changes';
import { RefusalLog } from './refusal-log';
import { decodeEncodedWords } from './encoded-words';

/**
 * How long Intake reuses what it read of a tenant for a From address: a campaign's messages
 * share one read. A change made in this process drops it at once (TenantChanges).
 */
export const INTAKE_VIEW_TTL_MS = 1000;
/** At most this many (tenant, From) views are kept; past it the cache starts afresh. */
const INTAKE_VIEW_MAX = 10_000;

/** What Intake needs of a tenant to accept a message from one From address. */
interface TenantView {
  policy: string;
  recipientRules: RecipientRule[];
  certificateId: string | null;
  hasCertificate: boolean;
  hasDelivery: boolean;
}

/** Header fields by name (any case), unfolded, read as UTF-8; the first occurrence wins. */
function headerLookup(header: HeaderRead): HeaderLookup {
  const fields = new Map<string, string>();
  for (const f of header.fields) {
    if (!fields.has(f.name)) {
      fields.set(f.name, Buffer.from(fieldValueOf(f), 'latin1').toString('utf8'));
    }
  }
  return (name) => fields.get(name.toLowerCase());
}

@Injectable()
export class Intake implements IntakeContract, OnModuleDestroy {
  /** Tenant views by "tenantId from", each with the time it expires. */
  private readonly views = new Map<string, { view: TenantView; until: number }>();
  private readonly unsubscribe: () => void;

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    private readonly spool: Spool,
    private readonly queue: RelayQueue,
    private readonly metrics: Metrics,
    private readonly bodies: RecentBodies,
    private readonly platforms: PlatformRegistry,
    private readonly refusals: RefusalLog,
    changes: TenantChanges,
  ) {
    this.unsubscribe = changes.subscribe((tenantId) => {
      for (const key of this.views.keys())
        if (key.startsWith(`${tenantId} `)) this.views.delete(key);
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  async accept(message: RelayMessage): Promise<Accepted> {
    try {
      const accepted = await this.check(message);
      this.metrics.intake.inc({ source: message.source, outcome: 'accepted' });
      return accepted;
    } catch (e) {
      const code = e instanceof RelayError ? e.code : 'internal_error';
      this.metrics.intake.inc({ source: message.source, outcome: code });
      this.refusals.record(message, e);
      throw e;
    }
  }

  refused(refusal: Refusal, error: unknown): void {
    this.refusals.record(refusal, error);
  }

  private async check(message: RelayMessage): Promise<Accepted> {
    const { raw, tenantId } = message;
    if (raw.length > this.env.MAX_MESSAGE_BYTES) {
      throw new RelayError(
        'too_large',
        `the message has ${raw.length} bytes; the limit is ${this.env.MAX_MESSAGE_BYTES}`,
      );
    }
    if (message.envelope.to.length === 0) {
      throw new RelayError('invalid_request', 'the message has no recipients');
    }
    const header = readHeader(raw);
    // PostgreSQL cannot store NUL in the subject it keeps, and no mail system passes one on:
    // a permanent refusal, so the platform does not retry a message that can never be stored.
    if (raw.subarray(0, header.bodyStart).includes(0)) {
      throw new RelayError('malformed_message', 'a header field contains a NUL byte');
    }
    // One scan of the header fields serves the subject and the platform adapters.
    const fields = headerLookup(header);
    const from = fromAddressOf(raw, header);
    const tenant = isUuid(tenantId) ? await this.tenantView(tenantId, from) : undefined;
    if (!tenant) throw new RelayError('not_found', 'the tenant does not exist');
    if (!tenant.hasDelivery) {
      throw new RelayError(
        'delivery_not_configured',
        'this tenant has no upstream to deliver to yet',
      );
    }
    const groups = groupRecipients(message.envelope.to, tenant.recipientRules);
    const signs = groups.some((g) => g.signing !== 'unsigned');
    const unsigned = !tenant.certificateId;
    if (signs && unsigned && tenant.policy !== 'prefer') {
      throw uncoveredFrom(from, tenant.hasCertificate);
    }
    // Refuses what the engine could not sign; a worker in this process signs what it made.
    const prepared = signs && !unsigned ? prepareMessage(raw) : undefined;
    const meta = message.meta?.[PLATFORM_META]
      ? message.meta
      : { ...message.meta, ...this.platforms.recognise(fields) };
    const subject = fields('subject')?.slice(0, 300);
    // Decoded once here, so a search finds a Japanese subject by its words; NULL when the
    // subject has no encoded-words and reads as written.
    const subjectText = subject?.includes('=?') ? decodeEncodedWords(subject) : undefined;
    const messageIdHeader = fields('message-id')?.trim().slice(0, 998);
    const accepted: { id: string; duplicate: boolean }[] = [];
    for (const group of groups) {
      // A split hand-off keeps one idempotency key per part, so a retry finds each again.
      const key =
        message.idempotencyKey && groups.length > 1
          ? `${message.idempotencyKey}#${group.signing ?? 'default'}`
          : message.idempotencyKey;
      const { id, duplicate } = await this.spool.insert({
        tenantId,
        source: message.source,
        envelope: { from: message.envelope.from, to: group.to },
        fromAddress: from,
        subject,
        subjectText: subjectText !== subject ? subjectText : undefined,
        messageIdHeader,
        raw,
        unsignedAllowed: unsigned,
        signingMode: group.signing,
        idempotencyKey: key,
        meta,
      });
      if (!duplicate) {
        this.bodies.put(id, raw, prepared);
        await this.queue.enqueue(id);
      }
      accepted.push({ id, duplicate });
    }
    return {
      messageId: accepted[0].id,
      messageIds: accepted.map((a) => a.id),
      duplicate: accepted.every((a) => a.duplicate),
      unsigned: unsigned || !signs,
    };
  }

  /**
   * The tenant's policy, the certificate for `from` and whether delivery is set, in one read,
   * reused for INTAKE_VIEW_TTL_MS. The worker reads the certificate again when it signs.
   */
  private async tenantView(tenantId: string, from: string): Promise<TenantView | undefined> {
    const key = `${tenantId} ${from}`;
    const now = Date.now();
    const hit = this.views.get(key);
    if (hit && hit.until > now) return hit.view;
    const view = await this.readTenantView(tenantId, from);
    if (!view) return undefined;
    if (this.views.size >= INTAKE_VIEW_MAX) this.views.clear();
    this.views.set(key, { view, until: now + INTAKE_VIEW_TTL_MS });
    return view;
  }

  private async readTenantView(tenantId: string, from: string): Promise<TenantView | undefined> {
    const [row] = await this.db.session.query<{
      signing_policy: string;
      recipient_rules: RecipientRule[];
      certificate_id: string | null;
      has_certificate: boolean;
      has_delivery: boolean;
    }>(
      `SELECT ${tenantSql.signingPolicy('$1::uuid')} AS signing_policy,
         ${tenantSql.recipientRules('$1::uuid')} AS recipient_rules,
         ${certificateSql.covering('$1::uuid', '$2', 'now()')} AS certificate_id,
         ${certificateSql.anyValid('$1::uuid', 'now()')} AS has_certificate,
         EXISTS (SELECT 1 FROM delivery_settings d WHERE d.tenant_id = $1::uuid) AS has_delivery`,
      [tenantId, from],
      'relay_intake_tenant',
    );
    // No such tenant: its policy reads as NULL.
    if (!row || row.signing_policy === null) return undefined;
    return {
      policy: row.signing_policy,
      recipientRules: row.recipient_rules,
      certificateId: row.certificate_id,
      hasCertificate: row.has_certificate,
      hasDelivery: row.has_delivery,
    };
  }
}
