import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideAttempt, type AttemptStep, type AttemptSubject } from './attempt-outcome';

const policy = { initialMs: 60_000, maxMs: 3_600_000, giveUpAfterMs: 24 * 3_600_000 };
const startedAt = new Date('2031-01-06T09:00:00Z');
const message = (over: Partial<AttemptSubject> = {}): AttemptSubject => ({
  id: 'msg-1',
  tenantId: 'tenant-1',
  fromAddress: 'news@example.com',
  envelope: { from: 'bounces@example.com', to: ['a@example.net', 'b@example.net'] },
  retryPeriodFrom: new Date(startedAt.getTime() - 3_600_000),
  wantsDeliveredEvent: false,
  ...over,
});
const decide = (step: AttemptStep, m = message(), attempt = 1) =>
  decideAttempt(m, step, { attempt, startedAt }, policy, () => 1);

const eventData = (error?: object) => ({
  tenantId: 'tenant-1',
  messageId: 'msg-1',
  from: 'news@example.com',
  recipients: ['a@example.net', 'b@example.net'],
  ...(error ? { error } : {}),
});

describe('the verdict of one attempt', () => {
  test('a delivered message is done, with an event only when a subscription asks for it', () => {
    const sent: AttemptStep = { kind: 'sent', response: '250 ok', providerMessageId: 'p-1' };
    const quiet = decide(sent);
    assert.deepEqual(quiet.result, { done: true });
    assert.equal(quiet.record.outcome, 'delivered');
    assert.equal(quiet.record.reply, '250 ok');
    assert.equal(quiet.record.providerMessageId, 'p-1');
    assert.equal(quiet.record.event, undefined);

    const told = decide(sent, message({ wantsDeliveredEvent: true }));
    assert.deepEqual(told.record.event, { type: 'message.delivered', data: eventData() });
  });

  test('an unsigned send is recorded as such with its reason, whatever the subscriptions', () => {
    for (const reason of ['recipient_policy', 'no_certificate'] as const) {
      const d = decide({ kind: 'sent', unsigned: reason }, message({ wantsDeliveredEvent: true }));
      assert.equal(d.record.outcome, 'sent_unsigned');
      assert.deepEqual(d.record.event, {
        type: 'message.sent_unsigned',
        data: { ...eventData(), reason },
      });
    }
  });

  test('a signing refusal fails at once with a signing_failed event', () => {
    const d = decide({ kind: 'signing_failed', code: 'no_certificate', message: 'none covers' });
    assert.deepEqual(d.result, { done: true });
    assert.equal(d.record.outcome, 'failed');
    assert.equal(d.record.errorCode, 'no_certificate');
    assert.deepEqual(d.record.event, {
      type: 'message.signing_failed',
      data: eventData({ code: 'no_certificate', message: 'none covers' }),
    });
  });

  test('unusable delivery settings fail at once and say so', () => {
    const d = decide({ kind: 'settings_unusable', code: 'master_key_unknown', message: 'no key' });
    assert.equal(d.record.outcome, 'failed');
    assert.equal(d.record.errorMessage, 'the delivery settings cannot be used: no key');
    assert.equal(d.record.event?.type, 'message.delivery_failed');
  });

  test('a permanent refusal fails with the reply kept in the record and the event', () => {
    const d = decide({ kind: 'send_failed', permanent: true, message: 'refused', reply: '550 no' });
    assert.equal(d.record.outcome, 'failed');
    assert.equal(d.record.errorCode, 'delivery_rejected');
    assert.equal(d.record.reply, '550 no');
    assert.deepEqual(d.record.event, {
      type: 'message.delivery_failed',
      data: eventData({ code: 'delivery_rejected', message: 'refused', reply: '550 no' }),
    });
  });

  test('a transient failure is retried after the backoff, without an event', () => {
    const d = decide({
      kind: 'send_failed',
      permanent: false,
      message: 'busy',
      reply: '451 later',
    });
    assert.equal(d.record.outcome, 'retry');
    assert.equal(d.record.errorCode, 'delivery_deferred');
    assert.equal(d.record.reply, '451 later');
    assert.equal(d.record.event, undefined);
    const at = new Date(startedAt.getTime() + 60_000); // first retry, jitter at its top
    assert.deepEqual(d.result, { done: false, retryAt: at });
    assert.deepEqual(d.record.nextAttemptAt, at);

    const later = decide({ kind: 'no_upstream' }, message(), 4);
    assert.equal(later.record.errorCode, 'delivery_not_configured');
    assert.deepEqual(later.result, {
      done: false,
      retryAt: new Date(startedAt.getTime() + 480_000),
    });
  });

  test('once the retry period is over a transient failure becomes delivery_expired', () => {
    const old = message({ retryPeriodFrom: new Date(startedAt.getTime() - 25 * 3_600_000) });
    const d = decide(
      { kind: 'send_failed', permanent: false, message: 'busy', reply: '451' },
      old,
      9,
    );
    assert.deepEqual(d.result, { done: true });
    assert.equal(d.record.outcome, 'failed');
    assert.equal(d.record.errorCode, 'delivery_expired');
    assert.equal(d.record.errorMessage, 'gave up after 9 attempts: busy');
    assert.equal(d.record.event?.type, 'message.delivery_failed');
  });

  test('a lost body fails without an event', () => {
    const d = decide({ kind: 'body_gone' });
    assert.equal(d.record.outcome, 'failed');
    assert.equal(d.record.errorCode, 'internal_error');
    assert.equal(d.record.event, undefined);
  });
});
