import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventually, op, queuedId, submit, submitter, relayFixture } from '../support/relay';
import { newsletter20k } from '../fixtures/newsletters';
import { verifyMessage } from '../../src/smime';
import { createTestPki } from '../helpers/pki';
import { verifyWithOpenssl } from '../helpers/openssl';

const relay = relayFixture();

describe('relay: SMTP in, signed out', () => {
  test('a newsletter is accepted, signed and delivered with its envelope', async () => {
    const client = submitter(relay.app.smtpPort!, relay.tenant, 1);
    const reply = await submit(client, newsletter20k(), {
      from: 'bounce@example.com',
      to: ['a@example.net', 'b@example.net'],
    });
    client.close();
    assert.match(reply, /^250 2\.6\.0 queued as /);
    const id = queuedId(reply);
    await relay.sink.waitFor(1, 20_000);
    const got = relay.sink.messages[0];
    assert.deepEqual(got.envelope, {
      from: 'bounce@example.com',
      to: ['a@example.net', 'b@example.net'],
    });
    const pki = await createTestPki();
    const report = await verifyMessage(got.raw, { trustAnchors: [pki.rootPem] });
    assert.equal(report.valid, true, JSON.stringify(report));
    const openssl = await verifyWithOpenssl(got.raw, pki);
    assert.ok(openssl.ok, openssl.output);
    const m = await eventually(async () => {
      const r = await relay.app.request('GET', `/v1/tenants/${relay.tenant.id}/messages/${id}`, op);
      return r.json?.state === 'delivered' ? r.json : undefined;
    });
    assert.equal(m.attempts, 1);
    assert.equal(m.attemptLog[0].outcome, 'delivered');
    assert.match(m.attemptLog[0].reply, /^250/);
  });
});
