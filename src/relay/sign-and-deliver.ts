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
import { Spool, type AttemptOutcome, type MessageForDelivery } from './spool';
import { SigningIdentities } from './signing-identities';
import { DeliverySettings } from './delivery-settings';
import { classifyDeliveryError } from './delivery-errors';
import { nextAttemptAt, retryPolicyFrom, type RetryPolicy } from '../queue/backoff';
import { UnsubscribeLinks, unsubscribeBase } from '../unsubscribe/unsubscribe-links';
import { publicUrl } from '../config/environment';

/** Message meta asking the worker to keep the bytes it hands to the upstream. */
export const KEEP_SENT_COPY = 'keepSentCopy';

/** What the queue should do next with the message's job. */
export type AttemptResult = { done: true } | { done: false; retryAt: Date };

const DONE: AttemptResult = { done: true };

function eventData(
  m: MessageForDelivery,
  error?: { code: string; message: string; reply?: string },
) {
  return {
    tenantId: m.tenantId,
    messageId: m.id,
    from: m.fromAddress,
    recipients: m.envelope.to,
    ...(error ? { error } : {}),
  };
}

/**
 * Why a message goes out unsigned: the tenant listed its recipients' domain as `unsigned`,
 * or its policy `prefer` let it go without a certificate.
 */
const unsignedReason = (m: MessageForDelivery): 'recipient_policy' | 'no_certificate' =>
  m.signingMode === 'unsigned' ? 'recipient_policy' : 'no_certificate';

@Injectable()
export class SignAndDeliver {
  private readonly log = new Logger('SignAndDeliver');
  private readonly policy: RetryPolicy;
  private readonly unsubscribeBase: string;
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
  }

  async attempt(messageId: string, now = new Date()): Promise<AttemptResult> {
    const cached = this.bodies.take(messageId);
    const m = await this.spool.forDelivery(messageId, now, !cached);
    if (!m || (m.state !== 'queued' && m.state !== 'retrying')) return DONE; // final already
    if (cached) m.raw = cached;
    const attempt = m.attempts + 1;
    const base = { attempt, startedAt: now };
    if (!m.raw) {
      return this.finish(m, {
        ...base,
        outcome: 'failed',
        ...this.failure('internal_error', 'the message body is gone'),
      });
    }
    if (!m.delivery) {
      return this.defer(m, base, 'delivery_not_configured', 'the tenant has no upstream');
    }
    let transport: DeliveryTransport;
    let settings: object;
    try {
      transport = this.delivery.transportFor(m.delivery.transport);
      settings = this.delivery.open(m.tenantId, m.delivery);
    } catch (e) {
      // An unknown transport, or secrets sealed under a master key this process lacks.
      if (!(e instanceof RelayError)) throw e;
      const error = { code: e.code, message: `the delivery settings cannot be used: ${e.message}` };
      return this.finish(m, {
        ...base,
        outcome: 'failed',
        errorCode: error.code,
        errorMessage: error.message,
        event: { type: 'message.delivery_failed', data: eventData(m, error) },
      });
    }
    let signed: Buffer;
    let unsigned = false;
    try {
      const identity =
        m.certificateId && m.signingMode !== 'unsigned'
          ? await this.identities.get(m.tenantId, m.certificateId)
          : undefined;
      if (m.signingMode === 'unsigned') {
        signed = m.raw; // the tenant's rule for these recipients' domain
        unsigned = true;
      } else if (identity) {
        signed = await signMessage(m.raw, identity, {
          now,
          cache: this.signatures,
          format: m.signingMode ?? transport.signatureFormat?.(settings) ?? 'detached',
        });
      } else if (m.signingPolicy === 'prefer') {
        signed = m.raw;
        unsigned = true;
      } else {
        throw new RelayError(
          'no_certificate',
          `no valid certificate of this tenant covers ${m.fromAddress}`,
        );
      }
      // A List-Unsubscribe field the provider would re-encode is shortened first (outside
      // the S/MIME signature, inside DKIM's).
      const limit = transport.listUnsubscribeLimit?.(settings);
      if (limit) {
        signed = await this.unsubscribe.shorten(
          m.tenantId,
          m.id,
          signed,
          limit,
          this.unsubscribeBase,
        );
      }
      // DKIM last, over the final bytes, so it covers the S/MIME structure as sent. Only
      // when the key's domain aligns with From (else DMARC would ignore it): see DkimKeys.
      const dkimKey = await this.dkim.signingKeyFor(m.tenantId, m.fromAddress, m.dkimUpdatedAt);
      if (dkimKey) {
        signed = dkimSign(signed, dkimKey, now, transport.rewrittenHeaders?.(settings) ?? []);
      }
    } catch (e) {
      if (!(e instanceof RelayError)) throw e; // database or other trouble: the job is retried
      this.metrics.signatures.inc({ outcome: e.code });
      const error = { code: e.code, message: e.message };
      return this.finish(m, {
        ...base,
        outcome: 'failed',
        errorCode: e.code,
        errorMessage: e.message,
        event: { type: 'message.signing_failed', data: eventData(m, error) },
      });
    }
    this.metrics.signatures.inc({ outcome: unsigned ? `unsigned_${unsignedReason(m)}` : 'signed' });
    // A transit check compares the copy that arrives with exactly these bytes.
    if (m.meta[KEEP_SENT_COPY]) await this.spool.keepSentCopy(m.id, signed);
    try {
      const result = await transport.send(signed, m.envelope, settings);
      const outcome = unsigned ? 'sent_unsigned' : 'delivered';
      if (m.attempts === 0)
        this.metrics.deliveryLatency.observe((Date.now() - m.createdAt.getTime()) / 1000);
      return this.finish(m, {
        ...base,
        outcome,
        reply: result.response,
        providerMessageId: result.providerMessageId,
        event: unsigned
          ? {
              type: 'message.sent_unsigned',
              data: { ...eventData(m), reason: unsignedReason(m) },
            }
          : m.wantsDeliveredEvent
            ? { type: 'message.delivered', data: eventData(m) }
            : undefined,
      });
    } catch (e) {
      const failure = classifyDeliveryError(e);
      if (failure.permanent) {
        const error = { code: 'delivery_rejected', message: failure.message, reply: failure.reply };
        return this.finish(m, {
          ...base,
          outcome: 'failed',
          errorCode: error.code,
          errorMessage: failure.message,
          reply: failure.reply,
          event: { type: 'message.delivery_failed', data: eventData(m, error) },
        });
      }
      return this.defer(m, base, 'delivery_deferred', failure.message, failure.reply);
    }
  }

  private failure(code: string, message: string) {
    return { errorCode: code, errorMessage: message };
  }

  /** A transient failure: try again later, or fail when the retry period is over. */
  private async defer(
    m: MessageForDelivery,
    base: { attempt: number; startedAt: Date },
    code: string,
    message: string,
    reply?: string,
  ): Promise<AttemptResult> {
    const at = nextAttemptAt(base.attempt, m.retryPeriodFrom, base.startedAt, this.policy);
    if (!at) {
      const error = {
        code: 'delivery_expired',
        message: `gave up after ${base.attempt} attempts: ${message}`,
        reply,
      };
      return this.finish(m, {
        ...base,
        outcome: 'failed',
        errorCode: error.code,
        errorMessage: error.message,
        reply,
        event: { type: 'message.delivery_failed', data: eventData(m, error) },
      });
    }
    await this.record(m, {
      ...base,
      outcome: 'retry',
      errorCode: code,
      errorMessage: message,
      reply,
      nextAttemptAt: at,
    });
    return { done: false, retryAt: at };
  }

  private async finish(m: MessageForDelivery, o: AttemptOutcome): Promise<AttemptResult> {
    await this.record(m, o);
    if (o.outcome === 'failed') {
      this.log.warn(`message ${m.id} failed: [${o.errorCode}] ${o.errorMessage}`);
    }
    return DONE;
  }

  private async record(m: MessageForDelivery, o: AttemptOutcome): Promise<void> {
    this.metrics.attempts.inc({ outcome: o.outcome });
    await this.spool.record(m, o);
  }
}
