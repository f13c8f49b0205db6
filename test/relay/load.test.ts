/**
 * Load: 1,000 personalised newsletters through SMTP intake to a loopback upstream. Every one
 * is delivered exactly once and verifies with the engine; a sample also with OpenSSL.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { seqOf, submitBatch, relayFixture } from '../support/relay';
import { verifyMessage } from '../../src/smime';
import { createTestPki, type TestPki } from '../helpers/pki';
import { verifyWithOpenssl } from '../helpers/openssl';

const COUNT = 1000;
const relay = relayFixture();
let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});

test(`${COUNT} messages: each delivered exactly once, each signature valid`, async (t) => {
  const seqs = Array.from({ length: COUNT }, (_, i) => i);
  const ids = await submitBatch(relay.app.smtpPort!, relay.tenant, seqs, 4);
  assert.equal(new Set(ids).size, COUNT, 'every accepted message has its own id');
  await relay.sink.waitFor(COUNT, 180_000);
  // A moment for stragglers that would be duplicates.
  await new Promise((r) => setTimeout(r, 500));
  const delivered = relay.sink.messages.map((m) => seqOf(m.raw));
  assert.equal(delivered.length, COUNT, 'no duplicates');
  assert.deepEqual(
    [...new Set(delivered)].sort((a, b) => a - b),
    seqs,
  );

  const anchors = [pki.rootPem];
  for (const m of relay.sink.messages) {
    const report = await verifyMessage(m.raw, { trustAnchors: anchors });
    assert.equal(report.valid, true, `message ${seqOf(m.raw)}: ${JSON.stringify(report)}`);
  }
  for (const m of relay.sink.messages.filter((_, i) => i % 100 === 7)) {
    const r = await verifyWithOpenssl(m.raw, pki);
    assert.ok(r.ok, r.output);
  }
  const [states] = await relay.app.db.session.query<{ delivered: string; total: string }>(
    "SELECT count(*) FILTER (WHERE state = 'delivered') AS delivered, count(*) AS total FROM messages",
  );
  assert.equal(Number(states.delivered), COUNT);
  assert.equal(Number(states.total), COUNT);
  t.diagnostic(`delivered ${COUNT} of ${COUNT}, 0 duplicates`);
});
