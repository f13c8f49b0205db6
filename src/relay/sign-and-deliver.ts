/**
 * One delivery attempt of one message: read it with its tenant's current certificate and
 * upstream, sign it, hand the signed bytes to the transport unchanged, and record the
 * outcome. Fails closed: without a certificate a message goes out unsigned only when the
 * tenant's policy is `prefer`.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ENVIRONMENT } from '../config/tokens';
import type { Environment } from '../config/environment';
import { RelayError } from '../plugin/relay-error';
import type { DeliveryTransport } from '../plugin/contract';
import { signMessage, SignatureCache } from '../smime';
import { Metrics } from '../health/metrics';
import { RecentBodies } from './recent-bodies';
import { DkimKeys } from '../dkim/dkim-keys';
import { dkimSign } from '../dkim/dkim-signer';
import { Spool, type MessageForDelivery } from './spool';
import { SigningIdentities } from './signing-identities';
import { DeliverySettings } from './delivery-settings';
import { classifyDeliveryError } from './delivery-errors';
import { retryPolicyFrom, type RetryPolicy } from '../queue/backoff';
import { withDeadline } from '../common/deadline';
import {
  decideAttempt,
  DONE,
  type AttemptResult,
  type AttemptStep,
  type HandedOver,
} from './attempt-outcome';
import { UnsubscribeLinks, unsubscribeBase } from '../unsubscribe/unsubscribe-links';
import { publicUrl } from '../config/environment';

/**
 * The job's memory of hand-overs (see {@link HandedOver}): what an earlier run of the same
 * job handed over without recording it, and a way to remember this run's.
 */
export interface HandoverLog {
  earlier?: HandedOver;
  remember(h: HandedOver): Promise<void>;
}

/** Message meta asking the worker to keep the bytes it hands to the upstream. */
export const KEEP_SENT_COPY = 'keepSentCopy';

export type { AttemptResult };

/**
 * Why a message goes out unsigned: the tenant listed its recipients' domain as `unsigned`,
 * or its policy `prefer` let it go without a certificate.
 */
const unsignedReason = (m: MessageForDelivery): 'recipient_policy' | 'no_certificate' =>
  m.signingMode === 'unsigned' ? 'recipient_policy' : 'no_certificate';

/** The transport and opened settings of the message's tenant. */
interface Upstream {
  transport: DeliveryTransport;
  settings: object;
}

/** The bytes to hand over, and why they carry no signature when they do not. */
interface Prepared {
  bytes: Buffer;
  unsigned?: 'recipient_policy' | 'no_certificate';
}

@Injectable()
export class SignAndDeliver {
  private readonly log = new Logger('SignAndDeliver');
  private readonly policy: RetryPolicy;
  private readonly unsubscribeBase: string;
  private readonly sendDeadlineMs: number;
  /** One signature serves every message whose signed part is byte-identical. */
  private readonly signatures = new SignatureCache();

  constructor(
    @Inject(ENVIRONMENT) env: Environment,
    private readonly spool: Spool,
    private readonly identities: SigningIdentities,
    private readonly delivery: DeliverySettings,
    private readonly metrics: Metrics,
    private readonly bodies: RecentBodies,
    private readonly dkim: DkimKeys,
    private readonly unsubscribe: UnsubscribeLinks,
  ) {
    this.policy = retryPolicyFrom(env);
    this.unsubscribeBase = unsubscribeBase(env, publicUrl(env));
    this.sendDeadlineMs = env.DELIVERY_DEADLINE_SECONDS * 1000;
  }

  /**
   * One attempt: load the message, open its upstream, sign, send, and record the verdict
   * ({@link decideAttempt}). Database and other unexpected trouble throws: the job is retried.
   * A message the upstream took is remembered with the job first (`log`), so a run after a
   * failed record records it instead of sending it twice.
   */
  async attempt(messageId: string, now = new Date(), log?: HandoverLog): Promise<AttemptResult> {
    const m = await this.load(messageId, now);
    if (!m) return DONE; // final already
    const earlier = log?.earlier;
    if (earlier && earlier.attempt === m.attempts + 1) {
      // The upstream took it on an earlier run; only the record is missing.
      const base = { attempt: earlier.attempt, startedAt: new Date(earlier.startedAt) };
      const { record, result } = decideAttempt(m, earlier.step, base, this.policy);
      await this.spool.record(m, record);
      this.log.log(`message ${m.id}: recorded the hand-over of an earlier run, not sent again`);
      return result;
    }
    const base = { attempt: m.attempts + 1, startedAt: now };
    const step = await this.run(m, now);
    const { record, result } = decideAttempt(m, step, base, this.policy);
    this.metrics.attempts.inc({ outcome: record.outcome });
    if (step.kind === 'sent' && log) {
      const handedOver = { attempt: base.attempt, startedAt: now.toISOString(), step };
      // Best effort: with Redis unreachable the record below is all there is, as before.
      await log.remember(handedOver).catch((e: Error) => {
        this.log.warn(`message ${m.id}: could not note the hand-over in Redis (${e.message})`);
      });
    }
    await this.spool.record(m, record);
    if (record.outcome === 'failed') {
      this.log.warn(`message ${m.id} failed: [${record.errorCode}] ${record.errorMessage}`);
    }
    return result;
  }

  /** The message with its body (from memory when intake just kept it), unless it is final. */
  private async load(messageId: string, now: Date): Promise<MessageForDelivery | undefined> {
    const cached = this.bodies.take(messageId);
    const m = await this.spool.forDelivery(messageId, now, !cached);
    if (!m || (m.state !== 'queued' && m.state !== 'retrying')) return undefined;
    if (cached) {
      m.raw = cached.raw;
      m.prepared = cached.prepared;
    }
    return m;
  }

  /** The steps in order; the first that cannot go on says how the attempt ends. */
  private async run(m: MessageForDelivery, now: Date): Promise<AttemptStep> {
    if (!m.raw) return { kind: 'body_gone' };
    if (!m.delivery) return { kind: 'no_upstream' };
    let upstream: Upstream;
    try {
      upstream = this.upstream(m);
    } catch (e) {
      // An unknown transport, or secrets sealed under a master key this process lacks.
      if (!(e instanceof RelayError)) throw e;
      return { kind: 'settings_unusable', code: e.code, message: e.message };
    }
    let prepared: Prepared;
    try {
      prepared = await this.prepare(m, m.raw, upstream, now);
    } catch (e) {
      if (!(e instanceof RelayError)) throw e;
      this.metrics.signatures.inc({ outcome: e.code });
      // An HSM or KMS that is busy, throttling or out of reach: tried again later.
      const transient = e.code === 'custody_unavailable';
      return { kind: 'signing_failed', code: e.code, message: e.message, transient };
    }
    this.metrics.signatures.inc({
      outcome: prepared.unsigned ? `unsigned_${prepared.unsigned}` : 'signed',
    });
    // A transit check compares the copy that arrives with exactly these bytes.
    if (m.meta[KEEP_SENT_COPY]) await this.spool.keepSentCopy(m.id, prepared.bytes);
    return this.send(m, prepared, upstream);
  }

  private upstream(m: MessageForDelivery): Upstream {
    const stored = m.delivery!;
    return {
      transport: this.delivery.transportFor(stored.transport),
      settings: this.delivery.open(m.tenantId, stored),
    };
  }

  /** S/MIME (or the tenant's reason not to), a shortened List-Unsubscribe, then DKIM. */
  private async prepare(
    m: MessageForDelivery,
    raw: Buffer,
    { transport, settings }: Upstream,
    now: Date,
  ): Promise<Prepared> {
    let prepared = await this.smime(m, raw, transport, settings, now);
    // A List-Unsubscribe field the provider would re-encode is shortened first (outside
    // the S/MIME signature, inside DKIM's).
    const limit = transport.listUnsubscribeLimit?.(settings);
    if (limit) {
      const bytes = await this.unsubscribe.shorten(
        m.tenantId,
        m.id,
        prepared.bytes,
        limit,
        this.unsubscribeBase,
      );
      prepared = { ...prepared, bytes };
    }
    // DKIM last, over the final bytes, so it covers the S/MIME structure as sent. Only
    // when the key's domain aligns with From (else DMARC would ignore it): see DkimKeys.
    const dkimKey = await this.dkim.signingKeyFor(m.tenantId, m.fromAddress, m.dkimUpdatedAt);
    if (dkimKey) {
      const omit = transport.rewrittenHeaders?.(settings) ?? [];
      prepared = { ...prepared, bytes: await dkimSign(prepared.bytes, dkimKey, now, omit) };
    }
    return prepared;
  }

  /** Fails closed: unsigned only by the tenant's rule for the domain or its `prefer` policy. */
  private async smime(
    m: MessageForDelivery,
    raw: Buffer,
    transport: DeliveryTransport,
    settings: object,
    now: Date,
  ): Promise<Prepared> {
    if (m.signingMode === 'unsigned') return { bytes: raw, unsigned: unsignedReason(m) };
    const identity = m.certificateId
      ? await this.identities.get(m.tenantId, m.certificateId)
      : undefined;
    if (identity) {
      const format = m.signingMode ?? transport.signatureFormat?.(settings) ?? 'detached';
      // `raw` is m.raw: the entity Intake prepared from it, when this process kept it.
      const options = { now, cache: this.signatures, format, prepared: m.prepared };
      return { bytes: await signMessage(raw, identity, options) };
    }
    if (m.signingPolicy === 'prefer') return { bytes: raw, unsigned: unsignedReason(m) };
    throw new RelayError(
      'no_certificate',
      `no valid certificate of this tenant covers ${m.fromAddress}`,
    );
  }

  /** The hand-over, within the core's deadline; any failure is classified, never thrown. */
  private async send(
    m: MessageForDelivery,
    prepared: Prepared,
    { transport, settings }: Upstream,
  ): Promise<AttemptStep> {
    try {
      const result = await withDeadline(
        transport.send(prepared.bytes, m.envelope, settings),
        this.sendDeadlineMs,
        `the ${transport.id} transport`,
      );
      if (m.attempts === 0) {
        this.metrics.deliveryLatency.observe((Date.now() - m.createdAt.getTime()) / 1000);
      }
      return {
        kind: 'sent',
        unsigned: prepared.unsigned,
        response: result.response,
        providerMessageId: result.providerMessageId,
      };
    } catch (e) {
      return { kind: 'send_failed', ...classifyDeliveryError(e) };
    }
  }
}
