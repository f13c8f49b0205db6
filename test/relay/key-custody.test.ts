/**
 * Keys that never leave their custody, through the relay end to end: a key made on a real
 * PKCS#11 token (SoftHSM2), one made in AWS KMS (a loopback fake that checks SigV4), and one
 * sealed here. For each: POST /keys gives a CSR, a test CA issues the certificate from it
 * (copying the requested extensions), the certificate is attached, a newsletter goes through
 * SMTP, and OpenSSL, GnuPG (gpgsm), NSS (cmsutil) and Thunderbird verify what the upstream got. A
 * certificate uploaded for a key already on the token signs too. Then the failures: a wrong
 * PIN, a disabled KMS key, a key not allowed to sign, a throttled KMS. Each has its code, the
 * disabled key fails the message with message.signing_failed, throttling is retried, and no
 * message ever goes out unsigned under `require`.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { createTestPki, type TestPki } from '../helpers/pki';
import { runOk, withTempDir } from '../helpers/pki-exec';
import { VERIFIERS, verifyWithAll } from '../helpers/verifiers';
import { startSoftHsm, type SoftHsm } from '../helpers/softhsm';
import { startFakeKms, type FakeKms } from '../helpers/fake-kms';
import { issueFromCsr } from '../helpers/issue-csr';
import { thunderbirdFor, type Thunderbird } from '../helpers/thunderbird';
import { eventually, op, queuedId, submit, submitter } from '../support/relay';

const PIN = '4711-2342';
const TOKEN = 'relay-test';
const KMS = {
  region: 'eu-west-1',
  accessKeyId: 'AKIAFAKEKMS000000001',
  secretAccessKey: 'fake-kms-secret-do-not-log',
};

function newsletter(from: string, marker: string): Buffer {
  return Buffer.from(
    [
      `From: News <${from}>`,
      'To: reader@example.net',
      `Subject: Custody ${marker}`,
      'Date: Mon, 06 Jan 2031 09:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Signed by a key that never left its custody (${marker}).`,
      '',
    ].join('\r\n'),
  );
}

describe('key custody: PKCS#11 (SoftHSM2), AWS KMS and sealed', { timeout: 240_000 }, () => {
  let app: TestApp;
  let sink: SmtpSink;
  let pki: TestPki;
  let hsm: SoftHsm;
  let kms: FakeKms;
  let tb: Thunderbird;
  let tenantId = '';
  let creds = { username: '', password: '' };

  const path = (rest = '') => `/v1/tenants/${tenantId}${rest}`;

  /** Submit a newsletter from `from`; the relay's reply. */
  async function send(from: string, marker: string): Promise<string> {
    const client = submitter(app.smtpPort!, creds, 1);
    try {
      return await submit(client, newsletter(from, marker));
    } finally {
      client.close();
    }
  }

  async function message(id: string, states: string[]) {
    return eventually(
      async () => {
        const r = await app.request('GET', path(`/messages/${id}`), op);
        return states.includes(r.json.state) ? r.json : undefined;
      },
      60_000,
      `message ${id} in ${states.join('/')}`,
    );
  }

  /** A key in `custody`, its CSR issued by the test CA, the certificate attached. */
  async function keyWithCertificate(custody: unknown, spec: string, address: string) {
    const made = await app.request('POST', path('/keys'), {
      ...op,
      body: {
        custody,
        spec,
        emailAddresses: [address],
        subject: { commonName: address, countryName: 'JP' },
      },
    });
    assert.equal(made.status, 201, made.text);
    assert.match(made.json.csr, /^-----BEGIN CERTIFICATE REQUEST-----/);
    const certificate = await issueFromCsr(pki, made.json.csr);
    const attached = await app.request('POST', path(`/keys/${made.json.id}/certificate`), {
      ...op,
      body: { certificate, chain: pki.intermediatePem },
    });
    assert.equal(attached.status, 201, attached.text);
    return { key: made.json, certificate: attached.json };
  }

  before(async () => {
    pki = await createTestPki();
    hsm = await startSoftHsm();
    await hsm.initToken(TOKEN, PIN);
    kms = await startFakeKms(KMS);
    tb = await thunderbirdFor(pki);
    sink = await startSink();
    app = await startApp({
      PKCS11_MODULES: hsm.module,
      PROVIDER_API_ALLOW_PRIVATE: 'true',
      RETRY_INITIAL_SECONDS: '0.2',
      RETRY_MAX_SECONDS: '1',
    });
    const t = await app.request('POST', '/v1/tenants', {
      ...op,
      body: { name: 'Custody', signingPolicy: 'require' },
    });
    tenantId = t.json.id;
    await app.request('PUT', path('/delivery'), {
      ...op,
      body: { transport: 'smtp', host: '127.0.0.1', port: sink.port, secure: false },
    });
    const s = await app.request('POST', path('/smtp-credentials'), { ...op, body: {} });
    creds = { username: s.json.username, password: s.json.password };
  });
  after(async () => {
    await app?.close();
    await sink?.stop();
    await kms?.stop();
    await hsm?.stop();
    await tb?.close();
  });

  const custodies: [string, () => unknown, string, string][] = [
    [
      'pkcs11',
      () => ({ custody: 'pkcs11', module: hsm.module, tokenLabel: TOKEN, pin: PIN }),
      'RSA-2048',
      'hsm@example.com',
    ],
    [
      'pkcs11 P-256',
      () => ({ custody: 'pkcs11', module: hsm.module, tokenLabel: TOKEN, pin: PIN }),
      'P-256',
      'hsm-ec@example.com',
    ],
    [
      'aws-kms',
      () => ({ custody: 'aws-kms', ...KMS, endpoint: kms.endpoint }),
      'RSA-3072',
      'kms@example.com',
    ],
    [
      'aws-kms P-384',
      () => ({ custody: 'aws-kms', ...KMS, endpoint: kms.endpoint }),
      'P-384',
      'kms-ec@example.com',
    ],
    ['sealed', () => 'sealed', 'P-256', 'sealed@example.com'],
  ];

  for (const [name, custody, spec, address] of custodies) {
    test(`${name}: key made in its custody, CSR, certificate attached, mail verified three ways`, async () => {
      const { key, certificate } = await keyWithCertificate(custody(), spec, address);
      assert.equal(key.custody, name.split(' ')[0]);
      assert.equal(certificate.custody, name.split(' ')[0]);
      assert.equal(certificate.signingKeyId, key.id);
      assert.deepEqual(certificate.emailAddresses, [address]);
      // Nothing secret in any answer.
      for (const text of [JSON.stringify(key), JSON.stringify(certificate)]) {
        assert.ok(!text.includes(PIN), 'the PIN came back');
        assert.ok(!text.includes(KMS.secretAccessKey), 'the secret access key came back');
        assert.doesNotMatch(text, /PRIVATE KEY/);
      }
      const listed = await app.request('GET', path(`/keys/${key.id}`), op);
      assert.deepEqual(listed.json.certificateIds, [certificate.id]);

      const before = sink.messages.length;
      const id = queuedId(await send(address, name));
      const done = await message(id, ['delivered', 'failed']);
      assert.equal(done.state, 'delivered', JSON.stringify(done.lastError));
      await sink.waitFor(before + 1);
      const delivered = sink.messages.at(-1)!.raw;
      const results = await verifyWithAll(delivered, pki);
      for (const v of VERIFIERS) assert.ok(results[v].ok, `${v}: ${results[v].output}`);
      // The reader's client: Thunderbird shows the signature as valid, by this address.
      const verdict = await tb.verdict(delivered);
      assert.equal(verdict.statusName, 'SUCCESS', `Thunderbird: ${JSON.stringify(verdict)}`);
      assert.equal(verdict.icon, 'ok');
      assert.equal(verdict.signer, address);
    });
  }

  test('a certificate for a key already on the token: uploaded with its custody, it signs', async () => {
    const identity = pki.identities.rsa2048;
    await hsm.importKey(TOKEN, PIN, identity.keyPem, 'imported-news', 'a1b2c3');
    const up = await app.request('POST', path('/certificates'), {
      ...op,
      body: {
        certificate: identity.certPem,
        chain: pki.intermediatePem,
        custody: {
          custody: 'pkcs11',
          module: hsm.module,
          tokenLabel: TOKEN,
          keyLabel: 'imported-news',
          pin: PIN,
        },
      },
    });
    assert.equal(up.status, 201, up.text);
    assert.equal(up.json.custody, 'pkcs11');
    assert.equal(up.json.custodyRef.keyLabel, 'imported-news');
    assert.ok(!up.text.includes(PIN));
    const id = queuedId(await send(identity.emails[0], 'imported'));
    const done = await message(id, ['delivered', 'failed']);
    assert.equal(done.state, 'delivered', JSON.stringify(done.lastError));
    const results = await verifyWithAll(sink.messages.at(-1)!.raw, pki);
    for (const v of VERIFIERS) assert.ok(results[v].ok, `${v}: ${results[v].output}`);
  });

  test('refusals at upload: wrong PIN, another key, a module the operator did not allow', async () => {
    const identity = pki.identities.p256;
    const body = (custody: Record<string, unknown>) => ({
      ...op,
      body: { certificate: identity.certPem, chain: pki.intermediatePem, custody },
    });
    const base = {
      custody: 'pkcs11',
      module: hsm.module,
      tokenLabel: TOKEN,
      keyLabel: 'imported-news',
    };
    const wrongPin = await app.request(
      'POST',
      path('/certificates'),
      body({ ...base, pin: '0000' }),
    );
    assert.equal(wrongPin.status, 422, wrongPin.text);
    assert.equal(wrongPin.json.error.code, 'custody_auth_failed');
    assert.ok(!wrongPin.text.includes('0000'));
    // The token's key is the RSA one: this P-256 certificate does not carry it.
    const mismatch = await app.request('POST', path('/certificates'), body({ ...base, pin: PIN }));
    assert.equal(mismatch.json.error.code, 'key_mismatch', mismatch.text);
    const missing = await app.request(
      'POST',
      path('/certificates'),
      body({ ...base, keyLabel: 'no-such-key', pin: PIN }),
    );
    assert.equal(missing.json.error.code, 'custody_key_not_found', missing.text);
    const module = await app.request(
      'POST',
      path('/certificates'),
      body({ ...base, module: '/usr/lib/x86_64-linux-gnu/libc.so.6', pin: PIN }),
    );
    assert.equal(module.status, 400, module.text);
    assert.match(module.json.error.message, /PKCS#11 libraries the operator allows/);
    // A tenant may not send its KMS requests elsewhere than KMS: the endpoint is the operator's.
    const key = await app.request('POST', path('/api-keys'), { ...op, body: {} });
    const asTenant = await app.request('POST', path('/keys'), {
      token: key.json.key,
      body: {
        custody: { custody: 'aws-kms', ...KMS, endpoint: kms.endpoint },
        spec: 'P-256',
        emailAddresses: ['news@example.com'],
      },
    });
    assert.equal(asTenant.status, 400, asTenant.text);
    assert.match(asTenant.json.error.message, /only the operator may set custody.endpoint/);
    // A KMS key that may only encrypt.
    const encrypt = kms.createKey('RSA_2048', 'ENCRYPT_DECRYPT');
    const unusable = await app.request(
      'POST',
      path('/certificates'),
      body({ custody: 'aws-kms', ...KMS, endpoint: kms.endpoint, keyId: encrypt.keyId }),
    );
    assert.equal(unusable.json.error.code, 'custody_key_unusable', unusable.text);
  });

  test('KMS throttling is retried; a disabled key fails the message, never sends it unsigned', async () => {
    const { key } = await keyWithCertificate(
      { custody: 'aws-kms', ...KMS, endpoint: kms.endpoint },
      'P-256',
      'kms-fault@example.com',
    );
    const keyArn = String(key.custodyRef.keyId);
    // Throttled beyond the SDK's own three attempts: the relay retries the message later.
    kms.throttleNext(4);
    const throttled = queuedId(await send('kms-fault@example.com', 'throttled'));
    const ok = await message(throttled, ['delivered', 'failed']);
    assert.equal(ok.state, 'delivered', JSON.stringify(ok.lastError));
    const attempts = ok.attemptLog.map(
      (a: { outcome: string; errorCode: string }) => `${a.outcome}:${a.errorCode ?? ''}`,
    );
    assert.deepEqual(attempts, ['retry:custody_unavailable', 'delivered:']);

    // KMS refusing the key's use for signing: fails at once, with its code.
    kms.failNext(
      'InvalidKeyUsageException',
      'KeyUsage of this key is not SIGN_VERIFY',
      400,
      1,
      'Sign',
    );
    const refusedUse = queuedId(await send('kms-fault@example.com', 'key-usage'));
    const unusable = await message(refusedUse, ['failed', 'delivered', 'sent_unsigned']);
    assert.equal(unusable.state, 'failed');
    assert.equal(unusable.lastError.code, 'custody_key_unusable');

    kms.disable(keyArn.split('/').at(-1)!);
    const before = sink.messages.length;
    const disabled = queuedId(await send('kms-fault@example.com', 'disabled'));
    const failed = await message(disabled, ['failed', 'delivered', 'sent_unsigned']);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.lastError.code, 'custody_key_disabled');
    const [event] = await app.db.session.query<{ type: string; data: { error: { code: string } } }>(
      "SELECT type, data FROM events WHERE message_id = $1 AND type = 'message.signing_failed'",
      [disabled],
    );
    assert.equal(event?.data.error.code, 'custody_key_disabled');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sink.messages.length, before, 'a message went out although its key is disabled');
  });

  test('renewal: a new CSR for the same key while the old certificate keeps signing; PKCS#7 attach', async () => {
    const { key } = await keyWithCertificate('sealed', 'RSA-2048', 'renew@example.com');
    const renewed = await app.request('POST', path(`/keys/${key.id}/csr`), {
      ...op,
      body: { emailAddresses: ['renew@example.com', 'renew2@example.com'] },
    });
    assert.equal(renewed.status, 200, renewed.text);
    assert.notEqual(renewed.json.csr, key.csr);
    // Same public key in both requests.
    const pub = async (csr: string) =>
      withTempDir('smime-csr-', async (dir) => {
        writeFileSync(join(dir, 'r.csr'), csr);
        return (await runOk('openssl', ['req', '-in', join(dir, 'r.csr'), '-noout', '-pubkey']))
          .stdout;
      });
    assert.equal(await pub(renewed.json.csr), await pub(key.csr));
    const id = queuedId(await send('renew@example.com', 'still-signing'));
    assert.equal((await message(id, ['delivered', 'failed'])).state, 'delivered');
    const certificate = await issueFromCsr(pki, renewed.json.csr);
    // This time as a CA often hands it out: a PKCS#7 bundle with the chain inside.
    const bundle = await withTempDir('smime-p7-', async (dir) => {
      writeFileSync(join(dir, 'cert.pem'), certificate);
      const out = await runOk('openssl', [
        'crl2pkcs7',
        '-nocrl',
        '-certfile',
        join(dir, 'cert.pem'),
        '-certfile',
        pki.intermediatePath,
      ]);
      return out.stdout;
    });
    assert.match(bundle, /BEGIN PKCS7/);
    const attached = await app.request('POST', path(`/keys/${key.id}/certificate`), {
      ...op,
      body: { certificate: bundle },
    });
    assert.equal(attached.status, 201, attached.text);
    assert.deepEqual(attached.json.emailAddresses, ['renew@example.com', 'renew2@example.com']);
    const twice = await app.request('GET', path(`/keys/${key.id}`), op);
    assert.equal(twice.json.certificateIds.length, 2);
  });
});
