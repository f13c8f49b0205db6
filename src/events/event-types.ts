/**
 * Every event a webhook can subscribe to, and the `data` each carries (always with the
 * tenant's id besides). `message.delivered` is sent only to those who ask for it. Payloads
 * never carry a message body, a key or a secret.
 */

export interface CertificateEventData {
  id: string;
  fingerprintSha256: string;
  emailAddresses: string[];
  notAfter: string;
}

interface MessageEventData {
  messageId: string;
  from: string;
  recipients: string[];
}

/** The type of each event → its `data`. */
export interface EventPayloads {
  'message.signing_failed': MessageEventData & { error: { code: string; message: string } };
  'message.delivery_failed': MessageEventData & {
    error: { code: string; message: string; reply?: string };
  };
  'message.sent_unsigned': MessageEventData & { reason: 'recipient_policy' | 'no_certificate' };
  'message.delivered': MessageEventData;
  'certificate.expiring': {
    certificate: CertificateEventData;
    daysLeft: number;
    thresholdDays: number;
  };
  'certificate.expired': { certificate: CertificateEventData };
  'certificate.added': { certificate: CertificateEventData };
  'certificate.removed': { certificate: CertificateEventData };
  'transit.check_failed': { checkId: string; from: string; to: string; problems: string[] };
}

export type EventType = keyof EventPayloads;

export const EVENT_TYPES: readonly EventType[] = [
  'message.signing_failed',
  'message.delivery_failed',
  'message.sent_unsigned',
  'message.delivered',
  'certificate.expiring',
  'certificate.expired',
  'certificate.added',
  'certificate.removed',
  'transit.check_failed',
];

/** Sent by POST …/webhooks/:id/test only. */
export const TEST_EVENT = 'webhook.test';
