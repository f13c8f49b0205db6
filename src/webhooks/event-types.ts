/** Every event a webhook can subscribe to. `message.delivered` is sent only to those who ask. */
export const EVENT_TYPES = [
  'message.signing_failed',
  'message.delivery_failed',
  'message.sent_unsigned',
  'message.delivered',
  'certificate.expiring',
  'certificate.expired',
  'certificate.added',
  'certificate.removed',
  'transit.check_failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Sent by POST …/webhooks/:id/test only. */
export const TEST_EVENT = 'webhook.test';
