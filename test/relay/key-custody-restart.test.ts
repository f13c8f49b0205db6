/**
 * A key custody that changes while the relay is down, found on the message path when it
 * comes back: the token's PIN was changed, or the token was removed. The message fails with
 * the custody's code and a message.signing_failed event, and nothing reaches the upstream
 * (the tenant's policy is `require`). Two relays in turn on one database and master key,
 * with a real SoftHSM2 token.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as pkcs11js from 'pkcs11js';
import { startApp, type TestApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { createTestPki, type TestPki } from '../helpers/pki';
import { startSoftHsm, type SoftHsm } from '../helpers/softhsm';
import { eventually, op, queuedId, submit, submitter } from '../support/relay';
import { closeAllPkcs11, pkcs11Module } from '../../src/custody/pkcs11';

const PIN = '1111-2222';
const NEW_PIN = '3333-4444';

function newsletter(from: string, marker: string): Buffer {
  return Buffer.from(
    `From: <${from}>\r\nTo: reader@example.net\r\nSubject: ${marker}\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\nAfter the restart (${marker}).\r\n`,
  );
}

/** Change the token's user PIN (C_SetPIN), as its owner would with the HSM's own tools. */
async function changePin(module: string, tokenLabel: string, oldPin: string, newPin: string) {
  const p11 = pkcs11Module(module);
  const slot = p11
    .C_GetSlotList(true)
    .find((s) => p11.C_GetTokenInfo(s).label.trim() === tokenLabel);
  assert.ok(slot, `token ${tokenLabel}`);
  const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  p11.C_Login(session, pkcs11js.CKU_USER, oldPin);
  p11.C_SetPIN(session, oldPin, newPin);
  p11.C_Logout(session);
  p11.C_CloseSession(session);
  await closeAllPkcs11();
}

describe('key custody changed while the relay was down', { timeout: 180_000 }, () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let pki: TestPki;
  let hsm: SoftHsm;
  const masterKey = randomBytes(32);
  let tenantId = '';
  let creds = { username: '', password: '' };
  let env: Record<string, string>;

  const relay = () => startApp(env, { databaseUrl: db.url, masterKey });

  async function send(app: TestApp, from: string, marker: string): Promise<string> {
    const client = submitter(app.smtpPort!, creds, 1);
    try {
      return queuedId(await submit(client, newsletter(from, marker)));
    } finally {
      client.close();
    }
  }

  async function final(app: TestApp, id: string) {
    return eventually(
      async () => {
        const r = await app.request('GET', `/v1/tenants/${tenantId}/messages/${id}`, op);
        return ['delivered', 'failed', 'sent_unsigned'].includes(r.json.state) ? r.json : undefined;
      },
      60_000,
      `message ${id} final`,
    );
  }

  before(async () => {
    pki = await createTestPki();
    hsm = await startSoftHsm();
    await hsm.initToken('pin-token', PIN);
    await hsm.initToken('gone-token', PIN);
    await hsm.importKey('pin-token', PIN, pki.identities.rsa2048.keyPem, 'news', '01');
    await hsm.importKey('gone-token', PIN, pki.identities.p256.keyPem, 'news-ec', '02');
    db = await createTestDatabase();
    sink = await startSink();
    env = { PKCS11_MODULES: hsm.module };
  });
  after(async () => {
    await sink?.stop();
    await hsm?.stop();
    await db?.drop();
  });

  test('a changed PIN and a removed token fail the message with their codes, nothing sent', async () => {
    // The first relay: the tenant, its two certificates on two tokens, one message each.
    const first = await relay();
    try {
      const t = await first.request('POST', '/v1/tenants', {
        ...op,
        body: { name: 'Restart', signingPolicy: 'require' },
      });
      tenantId = t.json.id;
      const path = `/v1/tenants/${tenantId}`;
      await first.request('PUT', `${path}/delivery`, {
        ...op,
        body: { transport: 'smtp', host: '127.0.0.1', port: sink.port, secure: false },
      });
      const s = await first.request('POST', `${path}/smtp-credentials`, { ...op, body: {} });
      creds = { username: s.json.username, password: s.json.password };
      for (const [identity, token, label] of [
        ['rsa2048', 'pin-token', 'news'],
        ['p256', 'gone-token', 'news-ec'],
      ] as const) {
        const up = await first.request('POST', `${path}/certificates`, {
          ...op,
          body: {
            certificate: pki.identities[identity].certPem,
            chain: pki.intermediatePem,
            custody: {
              custody: 'pkcs11',
              module: hsm.module,
              tokenLabel: token,
              keyLabel: label,
              pin: PIN,
            },
          },
        });
        assert.equal(up.status, 201, up.text);
      }
      // rsa2048 and p256 share their addresses: the one expiring last signs, so each is
      // checked by removing the other afterwards. Here: one message while all is well.
      const ok = await final(first, await send(first, 'news@example.com', 'before'));
      assert.equal(ok.state, 'delivered', JSON.stringify(ok.lastError));
    } finally {
      await first.close();
    }
    const delivered = sink.messages.length;

    // While the relay is down: the PIN of one token changes.
    await changePin(hsm.module, 'pin-token', PIN, NEW_PIN);

    const second = await relay();
    try {
      const path = `/v1/tenants/${tenantId}`;
      const certs = await second.request('GET', `${path}/certificates`, op);
      const byToken = (token: string) =>
        certs.json.find(
          (c: { custodyRef?: { tokenLabel?: string } }) => c.custodyRef?.tokenLabel === token,
        );
      // Only the changed-PIN token's certificate in use: the other one removed.
      await second.request('DELETE', `${path}/certificates/${byToken('gone-token').id}`, op);
      const pin = await final(second, await send(second, 'news@example.com', 'changed-pin'));
      assert.equal(pin.state, 'failed');
      assert.equal(pin.lastError.code, 'custody_auth_failed');
      assert.ok(!JSON.stringify(pin).includes(PIN));
      const [event] = await second.db.session.query<{ data: { error: { code: string } } }>(
        "SELECT data FROM events WHERE message_id = $1 AND type = 'message.signing_failed'",
        [pin.id],
      );
      assert.equal(event?.data.error.code, 'custody_auth_failed');
      assert.equal(sink.messages.length, delivered, 'a message went out unsigned or at all');
    } finally {
      await second.close();
    }

    // While the relay is down again: the other token is removed; its certificate is back.
    await closeAllPkcs11();
    const third = await relay();
    try {
      const path = `/v1/tenants/${tenantId}`;
      const certs = await third.request('GET', `${path}/certificates`, op);
      const pinCert = certs.json.find(
        (c: { custodyRef?: { tokenLabel?: string }; status: string }) =>
          c.custodyRef?.tokenLabel === 'pin-token' && c.status === 'active',
      );
      await third.request('DELETE', `${path}/certificates/${pinCert.id}`, op);
      const again = await third.request('POST', `${path}/certificates`, {
        ...op,
        body: {
          certificate: pki.identities.p256.certPem,
          chain: pki.intermediatePem,
          custody: {
            custody: 'pkcs11',
            module: hsm.module,
            tokenLabel: 'gone-token',
            keyLabel: 'news-ec',
            pin: PIN,
          },
        },
      });
      assert.equal(again.status, 201, again.text);
    } finally {
      await third.close();
    }
    await closeAllPkcs11();
    await hsm.deleteToken('gone-token');

    const fourth = await relay();
    try {
      const gone = await final(fourth, await send(fourth, 'news@example.com', 'token-gone'));
      assert.equal(gone.state, 'failed');
      assert.equal(gone.lastError.code, 'custody_key_not_found');
      const [event] = await fourth.db.session.query<{ data: { error: { code: string } } }>(
        "SELECT data FROM events WHERE message_id = $1 AND type = 'message.signing_failed'",
        [gone.id],
      );
      assert.equal(event?.data.error.code, 'custody_key_not_found');
      assert.equal(sink.messages.length, delivered, 'a message went out unsigned or at all');
    } finally {
      await fourth.close();
    }
  });
});
