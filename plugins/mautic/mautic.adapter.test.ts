/**
 * The Mautic adapter without the relay: recognising Mautic's messages by X-EMAIL-ID,
 * signing failures skipped unless asked for, and unknown contacts skipped; the calls
 * themselves are checked against a loopback Mautic in test/platforms.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FailedMessage, OutboundHttp } from '../../src/plugin/contract';
import { MauticAdapter } from './mautic.adapter';

const failure = (stage: FailedMessage['stage'], recipientRefused = true): FailedMessage => ({
  messageId: 'm-1',
  tenantId: 't-1',
  recipients: ['unknown@example.net'],
  stage,
  error: { code: stage === 'signing' ? 'no_certificate' : 'delivery_rejected', message: 'x' },
  recipientRefused: stage === 'delivery' && recipientRefused,
  meta: { platform: 'mautic', mauticEmailId: '3' },
});

const integration = (dncOnSigningFailure?: boolean) => ({
  id: 'i-1',
  tenantId: 't-1',
  platform: 'mautic',
  settings: {
    baseUrl: 'https://mautic.example.com',
    credentials: { type: 'basic' as const, username: 'u', password: 'p' },
    dncOnSigningFailure,
  },
});

class RecordingHttp implements OutboundHttp {
  urls: string[] = [];
  async request(url: string) {
    this.urls.push(url);
    return { status: 200, text: '{"total": 0, "contacts": []}', json: { total: 0, contacts: [] } };
  }
}

describe('Mautic adapter', () => {
  const adapter = new MauticAdapter();

  test('X-EMAIL-ID marks a Mautic message; a non-numeric one does not', () => {
    assert.deepEqual(
      adapter.recognise((n) => (n === 'x-email-id' ? '12' : undefined)),
      {
        mauticEmailId: '12',
      },
    );
    assert.equal(
      adapter.recognise((n) => (n === 'x-email-id' ? 'abc' : undefined)),
      undefined,
    );
    assert.equal(
      adapter.recognise(() => undefined),
      undefined,
    );
  });

  test('a signing failure is not reported unless dncOnSigningFailure is on', async () => {
    const off = new RecordingHttp();
    assert.match(
      await adapter.onMessageFailed(failure('signing'), integration(), off),
      /not reported/,
    );
    assert.equal(off.urls.length, 0);
    const on = new RecordingHttp();
    await adapter.onMessageFailed(failure('signing'), integration(true), on);
    assert.equal(on.urls.length, 1);
  });

  test('a refusal that is not about the address (policy, auth, expiry) is not reported', async () => {
    const http = new RecordingHttp();
    const done = await adapter.onMessageFailed(failure('delivery', false), integration(), http);
    assert.match(done, /not reported/);
    assert.equal(http.urls.length, 0);
  });

  test('Mautic’s unsubscribe link marks a message without X-EMAIL-ID as Mautic’s', () => {
    const link = '<https://mautic.example.com/email/unsubscribe/6571f0a2b3c4d>';
    assert.deepEqual(
      adapter.recognise((n) => (n === 'list-unsubscribe' ? link : undefined)),
      { mauticUnsubscribe: 'https://mautic.example.com/email/unsubscribe/6571f0a2b3c4d' },
    );
    // Mautic 5.1+: two more segments, the contact's address and a secret hash.
    const v51 =
      '<mailto:unsubscribe@mautic.example.com?subject=unsubscribe>, ' +
      '<https://mautic.example.com/index.php/email/unsubscribe/6571f0a2b3c4d/jane.doe%40example.net/8f14e45fceea167a5a36dedd4bea2543>';
    assert.deepEqual(
      adapter.recognise((n) => (n === 'list-unsubscribe' ? v51 : undefined)),
      {
        mauticUnsubscribe:
          'https://mautic.example.com/index.php/email/unsubscribe/6571f0a2b3c4d/jane.doe%40example.net/8f14e45fceea167a5a36dedd4bea2543',
      },
    );
    for (const notMautic of [
      '<https://lists.example.com/subscription/a/b>',
      '<https://mautic.example.com/email/unsubscribe/>',
      '<https://mautic.example.com/email/unsubscribe/6571f0a2b3c4d/only-one-more>',
    ]) {
      assert.equal(
        adapter.recognise((n) => (n === 'list-unsubscribe' ? notMautic : undefined)),
        undefined,
        notMautic,
      );
    }
    const other = '<https://lists.example.com/subscription/a/b>';
    assert.equal(
      adapter.recognise((n) => (n === 'list-unsubscribe' ? other : undefined)),
      undefined,
    );
  });

  test('a contact Mautic does not know is skipped without a DNC call', async () => {
    const http = new RecordingHttp();
    const done = await adapter.onMessageFailed(failure('delivery'), integration(), http);
    assert.match(done, /no contact for unknown@example\.net/);
    assert.deepEqual(
      http.urls.map((u) => new URL(u).pathname),
      ['/api/contacts'],
    );
  });
});
