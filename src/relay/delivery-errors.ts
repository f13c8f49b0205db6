/**
 * Is a delivery failure worth retrying? One place decides, for every transport:
 *   - a DeliveryError carries the transport's own verdict (providers map their HTTP codes);
 *   - an SMTP reply decides by its class: 4xx is transient, 5xx permanent (RFC 5321 §4.2.1);
 *   - a network failure, a timeout or a TLS failure during connect is transient;
 *   - anything else unknown is transient: retrying is safe, giving up early loses mail.
 */
import { DeliveryError } from '../plugin/contract';
import { DeadlineExceeded } from '../common/deadline';

export interface ClassifiedFailure {
  permanent: boolean;
  /** A plain sentence for the attempt log and events. */
  message: string;
  /** The upstream's reply line, when there was one. */
  reply?: string;
}

/** Node and nodemailer error codes of a connection that failed or timed out. */
const NETWORK_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ETLS',
  'EPROTOCOL',
]);

interface SmtpLikeError {
  responseCode?: number;
  response?: string;
  code?: string;
  message?: string;
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim().slice(0, 500);

export function classifyDeliveryError(e: unknown): ClassifiedFailure {
  if (e instanceof DeliveryError) {
    return { permanent: e.permanent, message: oneLine(e.message), reply: e.reply };
  }
  if (e instanceof DeadlineExceeded) {
    return {
      permanent: false,
      message: `${e.message}; tried again later (the upstream may have taken it meanwhile)`,
    };
  }
  const err = (e ?? {}) as SmtpLikeError;
  const reply = typeof err.response === 'string' ? oneLine(err.response) : undefined;
  const code = typeof err.responseCode === 'number' ? err.responseCode : undefined;
  if (code !== undefined && code >= 400 && code < 600) {
    const permanent = code >= 500;
    return {
      permanent,
      message: `the upstream answered ${code} (${permanent ? 'refused' : 'try again later'})`,
      reply: reply ?? String(code),
    };
  }
  if (err.code && NETWORK_CODES.has(err.code)) {
    return {
      permanent: false,
      message: `the upstream could not be reached: ${oneLine(err.message ?? err.code)}`,
    };
  }
  return { permanent: false, message: `delivery failed: ${oneLine(err.message ?? String(e))}` };
}

/** For API answers: what went wrong, without stack or secrets. */
export function describeDeliveryError(e: unknown): {
  permanent: boolean;
  message: string;
  reply?: string;
} {
  return classifyDeliveryError(e);
}

/**
 * Whether a failure says the recipient's address itself is bad: a permanent refusal whose
 * reply carries an enhanced status code of class 5.1 (bad destination address) or 5.2.1
 * (mailbox disabled). Everything else (authentication, policy, content, an outage) is not
 * the recipient's fault.
 */
export function isRecipientRefusal(code: string, reply: string | undefined): boolean {
  return (
    code === 'delivery_rejected' &&
    /(?:^|[\s[(-])5\.(?:1\.\d{1,3}|2\.1)(?=$|[\s\])])/.test(reply ?? '')
  );
}
