/**
 * Every table of history dropped after the retention period, as its owner declares it, in
 * the order the recovery round purges them (deliveries before the events they point to). A
 * new owner of such history adds its declaration here.
 */
import type { HistoryTable } from './database/history';
import { EVENT_HISTORY } from './events/event-log';
import { WEBHOOK_HISTORY } from './webhooks/subscriptions';
import { FEEDBACK_HISTORY } from './integrations/feedback-sink';
import { REFUSAL_HISTORY } from './relay/refusal-log';

export const HISTORY: readonly HistoryTable[] = [
  ...EVENT_HISTORY,
  WEBHOOK_HISTORY,
  FEEDBACK_HISTORY,
  REFUSAL_HISTORY,
];
