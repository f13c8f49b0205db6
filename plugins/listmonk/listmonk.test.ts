/**
 * The listmonk plugin's parts without the relay: the postback payload check, message
 * composition (content types, campaign headers, a postback without a campaign, stable
 * idempotency keys), recognising listmonk's SMTP messages, and the bounce verdicts against
 * a recording OutboundHttp.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { RelayError } from '../../src/plugin/relay-error';
import { FeedbackError, type FailedMessage, type OutboundHttp } from '../../src/plugin/contract';
import { parsePostback } from './postback-payload';
import { composeMessages } from './compose';
import { ListmonkAdapter } from './listmonk.adapter';
import { postback, subscriber } from '../../test/platforms/listmonk-payloads';

const ROOT = 'https://lists.example.com';

describe('listmonk postback payload', () => {
  test('from_email is taken from the top level or from the campaign', () => {
    const p = postback({ subscribers: [subscriber('a@example.net', 'A')] });
    assert.equal(parsePostback(p).fromEmail, 'Example News <news@example.com>');
    const top = { ...p, from_email: 'Other <other@example.com>' };
    assert.equal(parsePostback(top).fromEmail, 'Other <other@example.com>');
  });

  test('a postback without a campaign (null) and without attachments is accepted', () => {
    const p = { ...postback({ subscribers: [subscriber('a@example.net', 'A')] }) } as Record<
      string,
      unknown
    >;
    p.from_email = 'News <news@example.com>';
    p.campaign = null;
    p.attachments = null;
    const parsed = parsePostback(p);
    assert.equal(parsed.campaign, undefined);
    assert.deepEqual(parsed.attachments, []);
  });

  test('every problem is invalid_request naming the field', () => {
    const good = postback({ subscribers: [subscriber('a@example.net', 'A')] });
    const cases: [unknown, RegExp][] = [
      [{ ...good, content_type: undefined }, /^content_type is required/],
      [{ ...good, campaign: 'x' }, /^campaign must be an object/],
      [{ ...good, campaign: { ...good.campaign, headers: 'X-A: b' } }, /^campaign\.headers/],
      [{ ...good, campaign: { ...good.campaign, headers: [{ 'X-A': 1 }] } }, /headers\[0\]/],
      [{ ...good, recipients: [{ email: 'a@example.net' }] }, /recipients\[0\]\.uuid/],
      [{ ...good, attachments: [{ name: 'x', header: { A: 'b' }, content: '' }] }, /header\.A/],
    ];
    for (const [body, message] of cases) {
      assert.throws(
        () => parsePostback(body),
        (e: unknown) =>
          e instanceof RelayError && e.code === 'invalid_request' && message.test(e.message),
        JSON.stringify(body).slice(0, 120),
      );
    }
  });
  test('fields listmonk adds are ignored; every problem is named at once', () => {
    const good = postback({ subscribers: [subscriber('a@example.net', 'A')] });
    const later = { ...good, messenger: 'postback', campaign: { ...good.campaign, archive: true } };
    assert.equal(parsePostback(later).recipients[0].email, 'a@example.net');
    assert.throws(
      () =>
        parsePostback({
          ...good,
          subject: undefined,
          recipients: ['x', { uuid: 'u', email: 'no-at-sign' }],
          attachments: [{ name: 'a', content: 'abc' }],
        }),
      (e: unknown) =>
        e instanceof RelayError &&
        e.message ===
          'subject is required; recipients[0] must be an object; ' +
            'recipients[1].email is not an email address: "no-at-sign"; ' +
            'attachments[0].content must be base64',
    );
  });
});

describe('composing messages', () => {
  test('markdown and richtext arrive rendered as HTML; plain stays text', async () => {
    for (const [type, html] of [
      ['richtext', true],
      ['markdown', true],
      ['plain', false],
    ] as const) {
      const p = parsePostback(
        postback({ subscribers: [subscriber('a@example.net', 'A')], contentType: type }),
      );
      const [m] = await composeMessages(p, ROOT);
      const parsed = await simpleParser(m.raw);
      assert.equal(Boolean(parsed.html), html, type);
    }
  });

  test('campaign headers may not replace the message’s own fields', async () => {
    const p = parsePostback(
      postback({
        subscribers: [subscriber('a@example.net', 'A')],
        headers: [
          { From: 'forged@example.org' },
          { 'Content-Type': 'text/plain' },
          { 'List-Unsubscribe': '<https://elsewhere.example/>' },
          { 'Reply-To': 'help@example.com' },
        ],
      }),
    );
    const [m] = await composeMessages(p, ROOT);
    const parsed = await simpleParser(m.raw);
    assert.equal(parsed.from?.value[0].address, 'news@example.com');
    assert.equal(parsed.replyTo?.value[0].address, 'help@example.com');
    assert.ok(!m.raw.includes('forged@example.org'));
    assert.ok(!m.raw.includes('elsewhere.example'));
  });

  test('without a campaign there is no List-Unsubscribe; the subscriber id is kept', async () => {
    const s = subscriber('a@example.net', 'A');
    const body = postback({ subscribers: [s] }) as Record<string, unknown>;
    body.from_email = 'News <news@example.com>';
    body.campaign = null;
    const [m] = await composeMessages(parsePostback(body), ROOT);
    assert.ok(!/^List-Unsubscribe/im.test(m.raw.toString()));
    assert.match(m.raw.toString(), new RegExp(`^X-Listmonk-Subscriber: ${s.uuid}`, 'm'));
  });

  test('the idempotency key follows the content: same postback same key, a change a new one', async () => {
    const s = subscriber('a@example.net', 'A');
    const p = postback({ subscribers: [s] });
    const [a] = await composeMessages(parsePostback(p), ROOT);
    const [b] = await composeMessages(parsePostback(p), ROOT);
    const [c] = await composeMessages(parsePostback({ ...p, subject: 'Changed' }), ROOT);
    assert.equal(a.idempotencyKey, b.idempotencyKey);
    assert.notEqual(a.idempotencyKey, c.idempotencyKey);
    assert.ok(a.idempotencyKey.startsWith(`listmonk:${p.campaign.uuid}:${s.uuid}:`));
  });
});

class RecordingHttp implements OutboundHttp {
  calls: { url: string; body?: string; headers?: Record<string, string> }[] = [];
  constructor(private readonly status: number) {}
  async request(url: string, init: { body?: string; headers?: Record<string, string> }) {
    this.calls.push({ url, body: init.body, headers: init.headers });
    return { status: this.status, text: '{"message": "answer"}' };
  }
}

const failure = (code: string, recipientRefused = false): FailedMessage => ({
  messageId: 'm-1',
  tenantId: 't-1',
  recipients: ['a@example.net'],
  stage: code.startsWith('delivery') ? 'delivery' : 'signing',
  error: { code, message: 'refused' },
  recipientRefused,
  meta: { platform: 'listmonk', campaignUuid: 'c-1', subscriberUuid: 's-1' },
});

describe('listmonk adapter', () => {
  const adapter = new ListmonkAdapter();
  const integration = {
    id: 'i-1',
    tenantId: 't-1',
    platform: 'listmonk',
    settings: { rootUrl: `${ROOT}/`, bounce: { username: 'api', password: 'tok' } },
  };

  test('recognises listmonk’s SMTP messages by X-Listmonk-*', () => {
    const h = (fields: Record<string, string>) => (n: string) => fields[n.toLowerCase()];
    assert.deepEqual(
      adapter.recognise(h({ 'x-listmonk-campaign': 'c', 'x-listmonk-subscriber': 's' })),
      { campaignUuid: 'c', subscriberUuid: 's' },
    );
    assert.equal(adapter.recognise(h({ 'x-mailer': 'other' })), undefined);
  });

  test('only a refused address is a hard bounce; policy refusals, expiry and signing are soft', async () => {
    for (const [code, refusedAddress, type] of [
      ['delivery_rejected', true, 'hard'],
      ['delivery_rejected', false, 'soft'],
      ['delivery_expired', false, 'soft'],
      ['no_certificate', false, 'soft'],
    ] as const) {
      const http = new RecordingHttp(200);
      await adapter.onMessageFailed(failure(code, refusedAddress), integration, http);
      assert.equal(http.calls[0].url, `${ROOT}/webhooks/bounce`);
      assert.equal(JSON.parse(http.calls[0].body!).type, type, `${code} ${refusedAddress}`);
    }
  });

  test('401 is a permanent refusal, 503 and 429 transient', async () => {
    for (const [status, permanent] of [
      [401, true],
      [400, true],
      [503, false],
      [429, false],
    ] as const) {
      await assert.rejects(
        adapter.onMessageFailed(
          failure('delivery_rejected'),
          integration,
          new RecordingHttp(status),
        ),
        (e: unknown) => e instanceof FeedbackError && e.permanent === permanent,
      );
    }
  });

  test('nothing is sent without a bounce login, or for another integration’s message', async () => {
    const http = new RecordingHttp(200);
    const noLogin = { ...integration, settings: { rootUrl: ROOT } };
    await adapter.onMessageFailed(failure('delivery_rejected'), noLogin, http);
    const other = failure('delivery_rejected');
    other.meta.integrationId = 'i-2';
    await adapter.onMessageFailed(other, integration, http);
    assert.equal(http.calls.length, 0);
  });
});
