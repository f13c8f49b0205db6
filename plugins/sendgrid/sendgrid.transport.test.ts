import { loopbackEgress } from '../../test/helpers/egress';
import 'reflect-metadata';
import {
  selfSignedCertificate,
  startProviderSmtpFake,
} from '../../test/helpers/provider-smtp-fake';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { DeliveryError } from '../../src/plugin/contract';
import { classifyDeliveryError } from '../../src/relay/delivery-errors';
import { loadSigningIdentity, signMessage, type SigningIdentity } from '../../src/smime';
import { newsletter20k } from '../../test/fixtures/newsletters';
import { verifyWithOpenssl } from '../../test/helpers/openssl';
import { createTestPki, P12_PASSWORD, type TestPki } from '../../test/helpers/pki';
import { freePort } from '../../test/helpers/ports';
import {
  SENDGRID_HEADER_LINES,
  SendgridDeliverySettings,
  SendgridTransport,
} from './sendgrid.transport';

const API_KEY = 'SG.test-key.0123456789abcdef';
const ENVELOPE = { from: 'bounces@example.com', to: ['reader@example.net'] };

/**
 * A loopback stand-in for smtp.sendgrid.net: STARTTLS with a self-signed certificate, AUTH
 * required (user "apikey", the API key as password, 535 otherwise, as SendGrid answers), and
 * a scripted reply to each message (else "250 Ok: queued as sg-<n>").
 */
function startFakeSendgrid(tls: { key: Buffer; cert: Buffer }) {
  return startProviderSmtpFake({
    tls,
    accepts: (u, p) => u === 'apikey' && p === API_KEY,
    refusal: 'Authentication failed: Bad username / password',
    accepted: (n) => `Ok: queued as sg-${n}`,
  });
}

function settingsFor(plain: Record<string, unknown>): SendgridDeliverySettings {
  return plainToInstance(SendgridDeliverySettings, plain);
}

const headerOf = (raw: Buffer): string =>
  raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1');

describe('sendgrid transport: SMTP relay, signed bytes unchanged', () => {
  let pki: TestPki;
  let identity: SigningIdentity;
  let server: Awaited<ReturnType<typeof startFakeSendgrid>>;
  let fake: Awaited<ReturnType<typeof startFakeSendgrid>>['fake'];
  const transport = new SendgridTransport(loopbackEgress());
  let settings: SendgridDeliverySettings;

  before(async () => {
    pki = await createTestPki();
    identity = loadSigningIdentity({ pkcs12: pki.identities.rsa2048.p12!, password: P12_PASSWORD });
    server = await startFakeSendgrid(await selfSignedCertificate());
    fake = server.fake;
    settings = settingsFor({
      apiKey: API_KEY,
      host: '127.0.0.1',
      port: fake.port,
      rejectUnauthorized: false,
    });
  });
  after(async () => {
    await transport.close();
    await server.close();
  });

  const signedFor = async (s: SendgridDeliverySettings) =>
    signMessage(newsletter20k(), identity, { format: transport.signatureFormat(s) });

  test('opaque by default: X-SMTPAPI + the signed bytes unchanged, verified, sent as user apikey', async () => {
    assert.equal(transport.signatureFormat(settings), 'opaque');
    const signed = await signedFor(settings);
    assert.match(headerOf(signed), /^Content-Type: application\/pkcs7-mime;/im);
    const before = fake.received.length;
    const result = await transport.send(signed, ENVELOPE, settings);
    const got = fake.received[before];
    assert.ok(got.raw.equals(Buffer.concat([SENDGRID_HEADER_LINES, signed])));
    assert.ok(got.raw.subarray(SENDGRID_HEADER_LINES.length).equals(signed));
    assert.deepEqual({ from: got.from, to: got.to }, ENVELOPE);
    const openssl = await verifyWithOpenssl(got.raw, pki);
    assert.ok(openssl.ok, openssl.output);
    assert.match(result.response ?? '', /^250 Ok: queued as sg-\d+/);
    assert.match(result.providerMessageId ?? '', /^sg-\d+$/);
    // SendGrid's login: the literal user "apikey", the key as password, after STARTTLS.
    assert.deepEqual(fake.logins.at(-1), { username: 'apikey', password: API_KEY, overTls: true });
  });

  test('X-SMTPAPI switches off tracking, subscription links, footer and Analytics on one line', () => {
    const line = SENDGRID_HEADER_LINES.toString('latin1');
    assert.ok(line.length < 998 && line.endsWith('\r\n') && !line.slice(0, -2).includes('\n'));
    const value = JSON.parse(line.slice('X-SMTPAPI: '.length)) as {
      filters: Record<string, { settings: { enable: number } }>;
    };
    for (const filter of ['clicktrack', 'opentrack', 'subscriptiontrack', 'footer', 'ganalytics']) {
      assert.equal(value.filters[filter]?.settings.enable, 0, filter);
    }
  });

  test('signatureFormat "detached": the multipart/signed message arrives unchanged and verifies', async () => {
    const detached = settingsFor({ ...settings, signatureFormat: 'detached' });
    assert.equal(transport.signatureFormat(detached), 'detached');
    const signed = await signedFor(detached);
    assert.match(headerOf(signed), /^Content-Type: multipart\/signed;/im);
    const before = fake.received.length;
    await transport.send(signed, ENVELOPE, detached);
    const got = fake.received[before];
    assert.ok(got.raw.equals(Buffer.concat([SENDGRID_HEADER_LINES, signed])));
    const openssl = await verifyWithOpenssl(got.raw, pki);
    assert.ok(openssl.ok, openssl.output);
  });

  for (const code of [421, 451, 452]) {
    test(`a ${code} reply is transient, and the retry is delivered`, async () => {
      const signed = await signedFor(settings);
      const first = fake.data;
      fake.reply = (n) =>
        n === first ? { code, text: 'Temporary local problem - please try later' } : undefined;
      const before = fake.received.length;
      const e = await transport.send(signed, ENVELOPE, settings).catch((x: unknown) => x);
      assert.ok(e instanceof DeliveryError, String(e));
      assert.equal(e.permanent, false);
      const classified = classifyDeliveryError(e);
      assert.equal(classified.permanent, false);
      assert.match(classified.reply ?? '', new RegExp(`^${code} `));
      assert.equal(fake.received.length, before);
      await transport.send(signed, ENVELOPE, settings);
      assert.ok(fake.received[before].raw.subarray(SENDGRID_HEADER_LINES.length).equals(signed));
    });
  }

  test('a 550 reply is permanent and keeps the reply', async () => {
    fake.reply = () => ({ code: 550, text: 'Requested action not taken: mailbox unavailable' });
    const e = await transport
      .send(await signedFor(settings), ENVELOPE, settings)
      .catch((x: unknown) => x);
    fake.reply = () => undefined;
    assert.ok(e instanceof DeliveryError);
    assert.equal(classifyDeliveryError(e).permanent, true);
    assert.match(e.reply ?? '', /^550 Requested action not taken/);
  });

  test('a wrong API key gets 535: permanent, and the key appears in no message', async () => {
    const wrong = settingsFor({ ...settings, apiKey: 'SG.wrong-secret-key' });
    const e = await transport
      .send(await signedFor(wrong), ENVELOPE, wrong)
      .catch((x: unknown) => x);
    assert.ok(e instanceof DeliveryError);
    assert.equal(classifyDeliveryError(e).permanent, true);
    assert.match(e.reply ?? '', /^535 /);
    assert.ok(!`${e.message} ${e.reply}`.includes('wrong-secret-key'));
    assert.deepEqual(fake.logins.at(-1), {
      username: 'apikey',
      password: 'SG.wrong-secret-key',
      overTls: true,
    });
  });

  test('verify() logs in without sending mail, and reports a refused key as permanent', async () => {
    const before = fake.data;
    await transport.verify(settings);
    assert.equal(fake.logins.at(-1)?.password, API_KEY);
    const e = await transport
      .verify(settingsFor({ ...settings, apiKey: 'SG.nope' }))
      .catch((x: unknown) => x);
    assert.ok(e instanceof DeliveryError && e.permanent, String(e));
    assert.match(e.reply ?? '', /^535 /);
    assert.equal(fake.data, before);
  });

  test('an unreachable relay is transient', async () => {
    const closed = settingsFor({ ...settings, port: await freePort() });
    const e = await transport
      .send(await signedFor(closed), ENVELOPE, closed)
      .catch((x: unknown) => x);
    assert.ok(e instanceof DeliveryError);
    assert.equal(classifyDeliveryError(e).permanent, false);
  });

  test('the relay certificate is checked by default: a self-signed one is refused, nothing is sent', async () => {
    const strict = settingsFor({ apiKey: API_KEY, host: '127.0.0.1', port: fake.port });
    assert.equal(strict.rejectUnauthorized, true);
    const before = fake.data;
    const e = await transport.verify(strict).catch((x: unknown) => x);
    assert.ok(e instanceof DeliveryError && !e.permanent, String(e));
    assert.equal(fake.data, before);
  });

  test('settings: defaults, the secret field, and what validation refuses', async () => {
    const s = settingsFor({ apiKey: API_KEY });
    assert.deepEqual(
      {
        host: s.host,
        port: s.port,
        rejectUnauthorized: s.rejectUnauthorized,
        format: s.signatureFormat,
      },
      { host: 'smtp.sendgrid.net', port: 587, rejectUnauthorized: true, format: 'opaque' },
    );
    assert.deepEqual(transport.secretFields, ['apiKey']);
    const errorsOf = async (plain: Record<string, unknown>) =>
      (await validate(settingsFor(plain), { whitelist: true, forbidNonWhitelisted: true })).map(
        (e) => e.property,
      );
    assert.deepEqual(await errorsOf({ apiKey: API_KEY }), []);
    assert.deepEqual(await errorsOf({}), ['apiKey']);
    assert.deepEqual(await errorsOf({ apiKey: 'SG.a\r\nb' }), ['apiKey']);
    assert.deepEqual(await errorsOf({ apiKey: API_KEY, signatureFormat: 'clear' }), [
      'signatureFormat',
    ]);
    assert.deepEqual(await errorsOf({ apiKey: API_KEY, host: 'a b\r\n' }), ['host']);
    assert.deepEqual(await errorsOf({ apiKey: API_KEY, trackOpens: true }), ['trackOpens']);
  });
});
