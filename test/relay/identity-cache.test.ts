/**
 * The worker opens a certificate's key once and keeps it in memory; which certificate a
 * message uses is decided afresh for each message, so a replaced certificate takes over at
 * once and a removed one is never used again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { op, personalisedNewsletter, submit, submitter, relayFixture } from '../support/relay';
import { createTestPki, P12_PASSWORD } from '../helpers/pki';
import { verifyMessage } from '../../src/smime';
import { SigningIdentities } from '../../src/relay/signing-identities';

const relay = relayFixture({}, { identity: 'rsa2048' });

async function sendOne(n: number): Promise<Buffer> {
  const client = submitter(relay.app.smtpPort!, relay.tenant, 1);
  try {
    await submit(client, personalisedNewsletter(n));
  } finally {
    client.close();
  }
  await relay.sink.waitFor(n + 1, 30_000);
  return relay.sink.messages[n].raw;
}

/** The fingerprint of the certificate that signed a delivered message. */
const signedBy = async (raw: Buffer): Promise<string> => {
  const report = await verifyMessage(raw);
  assert.equal(report.signatureValid, true, JSON.stringify(report));
  return report.signer!.fingerprintSha256;
};

test('the key is opened once, and a new certificate for the address takes over', async () => {
  const [row] = await relay.app.db.session.query<{ id: string; fingerprint_sha256: string }>(
    'SELECT id, fingerprint_sha256 FROM certificates',
  );
  assert.equal(await signedBy(await sendOne(0)), row.fingerprint_sha256);
  const identities = relay.app.nest.get(SigningIdentities);
  assert.equal(identities.size, 1);

  // The cached identity signs even though the stored key can no longer be opened.
  await relay.app.db.session.query("UPDATE certificates SET sealed_private_key = '\\x01'::bytea");
  assert.equal(await signedBy(await sendOne(1)), row.fingerprint_sha256);

  // Replace the certificate: remove it, upload a P-256 one for the same addresses.
  const removed = await relay.app.request(
    'DELETE',
    `/v1/tenants/${relay.tenant.id}/certificates/${row.id}`,
    op,
  );
  assert.equal(removed.status, 204, removed.text);
  const pki = await createTestPki();
  const added = await relay.app.request('POST', `/v1/tenants/${relay.tenant.id}/certificates`, {
    ...op,
    body: { pkcs12: pki.identities.p256.p12!.toString('base64'), password: P12_PASSWORD },
  });
  assert.equal(added.status, 201, added.text);
  assert.equal(added.json.keyAlgorithm, 'P-256');
  assert.equal(await signedBy(await sendOne(2)), added.json.fingerprintSha256);
});
