/**
 * Delivery settings whose sealed secrets cannot be opened (sealed under another master key,
 * or altered) fail the message with key_unavailable and an event, instead of retrying forever.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  eventually,
  op,
  personalisedNewsletter,
  relayFixture,
  submit,
  submitter,
} from '../support/relay';

const relay = relayFixture();

test('unusable upstream secrets fail the message with key_unavailable', async () => {
  const { app, sink, tenant } = relay;
  const put = await app.request('PUT', `/v1/tenants/${tenant.id}/delivery`, {
    ...op,
    body: { transport: 'smtp', host: '127.0.0.1', port: sink.port, auth: { user: 'u', pass: 'p' } },
  });
  assert.equal(put.status, 200, put.text);
  await app.db.session.query(
    "UPDATE delivery_settings SET sealed_secrets = '\\x01'::bytea, updated_at = now() WHERE tenant_id = $1",
    [tenant.id],
  );
  const client = submitter(app.smtpPort!, tenant, 1);
  try {
    await submit(client, personalisedNewsletter(1));
  } finally {
    client.close();
  }
  const row = await eventually(async () => {
    const [r] = await app.db.session.query<{ state: string; last_error_code: string }>(
      'SELECT state, last_error_code FROM messages',
    );
    return r?.state === 'failed' ? r : undefined;
  });
  assert.equal(row.last_error_code, 'key_unavailable');
  const events = await app.db.session.query<{ type: string }>(
    'SELECT type FROM events WHERE message_id IS NOT NULL',
  );
  assert.deepEqual(
    events.map((e) => e.type),
    ['message.delivery_failed'],
  );
  assert.equal(sink.messages.length, 0);
});
