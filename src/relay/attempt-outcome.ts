/**
 * What one delivery attempt comes to, decided without a database: from what the attempt's
 * steps found ({@link AttemptStep}) to the row the spool records and what the queue does
 * next. SignAndDeliver runs the steps; this module owns every rule of the verdict.
 */
import { nextAttemptAt, type RetryPolicy } from '../queue/backoff';
import type { AttemptOutcome, MessageForDelivery } from './spool';

/** What the queue should do next with the message's job. */
export type AttemptResult = { done: true } | { done: false; retryAt: Date };

export const DONE: AttemptResult = { done: true };

/** How an attempt's steps ended. */
export type AttemptStep =
  /** The spooled body is gone (purged or lost): nothing can be sent. */
  | { kind: 'body_gone' }
  /** The tenant has no upstream yet: wait for one within the retry period. */
  | { kind: 'no_upstream' }
  /** The delivery settings cannot be used (unknown transport, secrets not openable). */
  | { kind: 'settings_unusable'; code: string; message: string }
  /** Signing refused the message (no certificate, a From the certificate lacks, …). */
  /**
   * Signing did not happen. `transient`: it may work later (an HSM busy, KMS throttling), so
   * the message is tried again like a deferred delivery; else it fails at once.
   */
  | { kind: 'signing_failed'; code: string; message: string; transient?: boolean }
  /** The upstream took the message. `unsigned` says why it went without a signature. */
  | {
      kind: 'sent';
      unsigned?: 'recipient_policy' | 'no_certificate';
      response?: string;
      providerMessageId?: string;
    }
  /** The upstream refused it for good, or for now (`permanent: false`). */
  | { kind: 'send_failed'; permanent: boolean; message: string; reply?: string };

/** The step of an attempt whose message the upstream took. */
export type SentStep = Extract<AttemptStep, { kind: 'sent' }>;

/**
 * What one run of a job handed to the upstream, kept with the job in Redis before the spool
 * records it: if recording fails (the database going away, the worker killed), the job's
 * next run records this verdict instead of sending the message again.
 */
export interface HandedOver {
  attempt: number;
  /** ISO 8601: when the attempt started. */
  startedAt: string;
  step: SentStep;
}

/** The message fields the verdict reads. */
export type AttemptSubject = Pick<
  MessageForDelivery,
  'id' | 'tenantId' | 'fromAddress' | 'envelope' | 'retryPeriodFrom' | 'wantsDeliveredEvent'
>;

export interface AttemptDecision {
  /** The attempt as the spool records it, with the event written in the same statement. */
  record: AttemptOutcome;
  result: AttemptResult;
}

interface EventError {
  code: string;
  message: string;
  reply?: string;
}

/** The payload every message event carries. */
export function messageEventData(m: AttemptSubject, error?: EventError) {
  return {
    tenantId: m.tenantId,
    messageId: m.id,
    from: m.fromAddress,
    recipients: m.envelope.to,
    ...(error ? { error } : {}),
  };
}

function failed(
  m: AttemptSubject,
  base: { attempt: number; startedAt: Date },
  type: 'message.signing_failed' | 'message.delivery_failed',
  error: EventError,
): AttemptDecision {
  return {
    record: {
      ...base,
      outcome: 'failed',
      errorCode: error.code,
      errorMessage: error.message,
      ...(error.reply !== undefined ? { reply: error.reply } : {}),
      event: { type, data: messageEventData(m, error) },
    },
    result: DONE,
  };
}

/** A transient failure: try again later, or fail once the retry period is over. */
function deferred(
  m: AttemptSubject,
  base: { attempt: number; startedAt: Date },
  policy: RetryPolicy,
  code: string,
  message: string,
  reply: string | undefined,
  random: () => number,
  expiry: { type: 'message.signing_failed' | 'message.delivery_failed'; code: string } = {
    type: 'message.delivery_failed',
    code: 'delivery_expired',
  },
): AttemptDecision {
  const at = nextAttemptAt(base.attempt, m.retryPeriodFrom, base.startedAt, policy, random);
  if (!at) {
    return failed(m, base, expiry.type, {
      code: expiry.code,
      message: `gave up after ${base.attempt} attempts: ${message}`,
      reply,
    });
  }
  return {
    record: {
      ...base,
      outcome: 'retry',
      errorCode: code,
      errorMessage: message,
      reply,
      nextAttemptAt: at,
    },
    result: { done: false, retryAt: at },
  };
}

/**
 * The verdict of attempt number `base.attempt` on `m`, started at `base.startedAt`.
 * `random` is the retry jitter's source (tests pass a fixed one).
 */
export function decideAttempt(
  m: AttemptSubject,
  step: AttemptStep,
  base: { attempt: number; startedAt: Date },
  policy: RetryPolicy,
  random: () => number = Math.random,
): AttemptDecision {
  switch (step.kind) {
    case 'body_gone':
      return {
        record: {
          ...base,
          outcome: 'failed',
          errorCode: 'internal_error',
          errorMessage: 'the message body is gone',
        },
        result: DONE,
      };
    case 'no_upstream':
      return deferred(
        m,
        base,
        policy,
        'delivery_not_configured',
        'the tenant has no upstream',
        undefined,
        random,
      );
    case 'settings_unusable':
      return failed(m, base, 'message.delivery_failed', {
        code: step.code,
        message: `the delivery settings cannot be used: ${step.message}`,
      });
    case 'signing_failed':
      if (step.transient) {
        return deferred(m, base, policy, step.code, step.message, undefined, random, {
          type: 'message.signing_failed',
          code: step.code,
        });
      }
      return failed(m, base, 'message.signing_failed', { code: step.code, message: step.message });
    case 'sent':
      return {
        record: {
          ...base,
          outcome: step.unsigned ? 'sent_unsigned' : 'delivered',
          reply: step.response,
          providerMessageId: step.providerMessageId,
          event: step.unsigned
            ? {
                type: 'message.sent_unsigned',
                data: { ...messageEventData(m), reason: step.unsigned },
              }
            : m.wantsDeliveredEvent
              ? { type: 'message.delivered', data: messageEventData(m) }
              : undefined,
        },
        result: DONE,
      };
    case 'send_failed':
      if (step.permanent) {
        return failed(m, base, 'message.delivery_failed', {
          code: 'delivery_rejected',
          message: step.message,
          reply: step.reply,
        });
      }
      return deferred(m, base, policy, 'delivery_deferred', step.message, step.reply, random);
  }
}
