/**
 * Per-recipient-domain signing through the whole relay: the rules API (validation,
 * normalisation, tenant isolation, the starter list), a message split per rule at intake,
 * unsigned-by-rule messages reported as such (state, reason, event) and never as failures,
 * and no unsigned message under `require` unless the tenant listed the domain.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  eventually,
  op,
  relayFixture,
  setupTenant,
  submit,
  submitter,
  type RelayTenant,
} from '../support/relay';
import type { TestApp } from '../support/app';
import { createTestPki } from '../helpers/pki';
import { verifyWithOpenssl } from '../helpers/openssl';

const relay = relayFixture();

function newsletter(marker: string, from = 'news@example.com'): Buffer {
  return Buffer.from(
    [
      `From: Example News <${from}>`,
      'To: undisclosed-recipients:;',
      `Subject: Policy ${marker}`,
      'Date: Thu, 03 Dec 2026 09:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Policy test ${marker}.`,
      '',
    ].join('\r\n'),
  );
}

async function putRules(app: TestApp, tenantId: string, rules: object[], token = op.token) {
  return app.request('PUT', `/v1/tenants/${tenantId}/recipient-policy`, {
    token,
    body: { rules },
  });
}

async function send(tenant: RelayTenant, raw: Buffer, to: string[]): Promise<string[]> {
  const client = submitter(relay.app.smtpPort!, tenant, 1);
  try {
    const reply = await submit(client, raw, { from: 'bounces@example.com', to });
    return [...reply.matchAll(/[0-9a-f]{8}-[0-9a-f-]{27}/g)].map((m) => m[0]);
  } finally {
    client.close();
  }
}

async function finalView(tenantId: string, id: string) {
  return eventually(
    async () => {
      const r = await relay.app.request('GET', `/v1/tenants/${tenantId}/messages/${id}`, op);
      return ['delivered', 'sent_unsigned', 'failed'].includes(r.json.state) ? r.json : undefined;
    },
    30_000,
    `message ${id} final`,
  );
}

const delivered = (marker: string, to: string) =>
  eventually(
    async () =>
      relay.sink.messages.find(
        (m) => m.raw.includes(`Policy ${marker}`) && m.envelope.to.includes(to),
      ),
    30_000,
    `${marker} to ${to}`,
  );

describe('recipient policy API', () => {
  test('rules are checked, normalised and read back; presets are offered, never applied', async () => {
    const { id } = relay.tenant;
    const presets = await relay.app.request('GET', '/v1/recipient-policy/presets', op);
    assert.equal(presets.status, 200);
    const carriers = presets.json['jp-mobile-carriers'];
    assert.equal(carriers.rule.signing, 'unsigned');
    assert.ok(carriers.rule.domains.includes('docomo.ne.jp'));
    assert.ok(carriers.sources.length > 0);
    assert.deepEqual((await relay.app.request('GET', `/v1/tenants/${id}/recipient-policy`, op)).json, {
      rules: [],
    });

    const ok = await putRules(relay.app, id, [
      { signing: 'unsigned', domains: ['DoCoMo.ne.jp.', '例え.jp'] },
    ]);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json.rules, [
      { signing: 'unsigned', domains: ['docomo.ne.jp', 'xn--r8jz45g.jp'] },
    ]);
    for (const [rules, pattern] of [
      [[{ signing: 'unsigned', domains: ['user@docomo.ne.jp'] }], /is not a domain name/],
      [[{ signing: 'unsigned', domains: ['*.docomo.ne.jp'] }], /is not a domain name/],
      [[{ signing: 'never', domains: ['docomo.ne.jp'] }], /signing must be one of/],
      [
        [
          { signing: 'unsigned', domains: ['docomo.ne.jp'] },
          { signing: 'opaque', domains: ['docomo.ne.jp'] },
        ],
        /listed twice/,
      ],
    ] as const) {
      const bad = await putRules(relay.app, id, rules as unknown as object[]);
      assert.equal(bad.status, 400, bad.text);
      assert.match(bad.text, pattern);
    }
    assert.deepEqual(
      (await relay.app.request('GET', `/v1/tenants/${id}/recipient-policy`, op)).json.rules[0]
        .domains,
      ['docomo.ne.jp', 'xn--r8jz45g.jp'],
      'a refused PUT changes nothing',
    );
  }); // prettier-ignore

  test("a tenant key sets its own rules and sees another tenant's as missing", async () => {
    const key = await relay.app.request('POST', `/v1/tenants/${relay.tenant.id}/api-keys`, {
      ...op,
      body: { label: 'policy' },
    });
    const own = await putRules(relay.app, relay.tenant.id, [], key.json.key);
    assert.equal(own.status, 200, own.text);
    const other = await setupTenant(relay.app, relay.sink.port);
    const foreign = await putRules(relay.app, other.id, [], key.json.key);
    assert.equal(foreign.status, 404);
  });
});

describe('one message, recipients under different rules', () => {
  test('split per rule: signed detached, opaque and unsigned-by-rule, each reported as such', async () => {
    const { id } = relay.tenant;
    const set = await putRules(relay.app, id, [
      { signing: 'unsigned', domains: ['docomo.ne.jp', 'ezweb.ne.jp'] },
      { signing: 'opaque', domains: ['opaque.example'] },
    ]);
    assert.equal(set.status, 200, set.text);
    const to = ['reader@example.net', 'taro@docomo.ne.jp', 'hanako@mail.opaque.example', 'jiro@ezweb.ne.jp'];
    const ids = await send(relay.tenant, newsletter('split'), to);
    assert.equal(ids.length, 3, 'one message per rule');

    const views = await Promise.all(ids.map((m) => finalView(id, m)));
    const byRule = new Map(views.map((v) => [v.recipientSigning, v]));
    assert.deepEqual(byRule.get(null).envelope.to, ['reader@example.net']);
    assert.equal(byRule.get(null).state, 'delivered');
    assert.deepEqual(byRule.get('unsigned').envelope.to, ['taro@docomo.ne.jp', 'jiro@ezweb.ne.jp']);
    assert.equal(byRule.get('unsigned').state, 'sent_unsigned');
    assert.equal(byRule.get('unsigned').unsignedReason, 'recipient_policy');
    assert.equal(byRule.get('unsigned').lastError, null, 'not a failure');
    assert.equal(byRule.get('opaque').state, 'delivered');

    const pki = await createTestPki();
    const plain = await delivered('split', 'reader@example.net');
    assert.match(plain.raw.toString('latin1'), /multipart\/signed/);
    assert.ok((await verifyWithOpenssl(plain.raw, pki)).ok);
    const opaque = await delivered('split', 'hanako@mail.opaque.example');
    assert.match(opaque.raw.toString('latin1'), /application\/pkcs7-mime; smime-type=signed-data/);
    assert.ok((await verifyWithOpenssl(opaque.raw, pki)).ok);
    const carrier = await delivered('split', 'taro@docomo.ne.jp');
    assert.deepEqual(carrier.envelope.to, ['taro@docomo.ne.jp', 'jiro@ezweb.ne.jp']);
    assert.doesNotMatch(carrier.raw.toString('latin1'), /pkcs7/);
    assert.match(carrier.raw.toString('latin1'), /Policy test split\./);

    const [event] = await relay.app.db.session.query<{ type: string; data: { reason: string } }>(
      'SELECT type, data FROM events WHERE message_id = $1',
      [byRule.get('unsigned').id],
    );
    assert.equal(event.type, 'message.sent_unsigned');
    assert.equal(event.data.reason, 'recipient_policy');
    const unsignedList = await relay.app.request('GET', `/v1/tenants/${id}/messages?status=sent_unsigned`, op);
    assert.ok(unsignedList.json.items.some((m: { id: string }) => m.id === byRule.get('unsigned').id));
    const failed = await relay.app.request('GET', `/v1/tenants/${id}/messages?status=failed`, op);
    assert.ok(!failed.json.items.some((m: { id: string }) => ids.includes(m.id)));
  }); // prettier-ignore

  test('under `require` a carrier address is signed unless the tenant listed its domain', async () => {
    const tenant = await setupTenant(relay.app, relay.sink.port);
    const [idSigned] = await send(tenant, newsletter('unlisted'), ['taro@docomo.ne.jp']);
    assert.equal((await finalView(tenant.id, idSigned)).state, 'delivered');
    const got = await delivered('unlisted', 'taro@docomo.ne.jp');
    assert.match(got.raw.toString('latin1'), /multipart\/signed/);
  });

  test('no certificate for From: unsigned-listed recipients only are accepted, a mixed list is refused', async () => {
    const tenant = await setupTenant(relay.app, relay.sink.port);
    await putRules(relay.app, tenant.id, [{ signing: 'unsigned', domains: ['docomo.ne.jp'] }]);
    const from = 'other@example.org';
    const [onlyCarrier] = await send(tenant, newsletter('nocert', from), ['taro@docomo.ne.jp']);
    const view = await finalView(tenant.id, onlyCarrier);
    assert.equal(view.state, 'sent_unsigned');
    assert.equal(view.unsignedReason, 'recipient_policy');
    await assert.rejects(
      send(tenant, newsletter('nocert-mixed', from), ['taro@docomo.ne.jp', 'reader@example.net']),
      /550 5\.7\.1 \[from_mismatch\]/,
    );
  });
});
