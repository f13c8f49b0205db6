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
  PostmarkDeliverySettings,
  PostmarkTransport,
  postmarkHeaderLines,
} from './postmark.transport';

const TOKEN = '6c0f3e2a-1b2c-4d5e-8f90-0123456789ab';
const ENVELOPE = { from: 'bounces@example.com', to: ['reader@example.net'] };

/**
 * A loopback stand-in for smtp.postmarkapp.com: STARTTLS with a self-signed certificate, AUTH
 * required (the Server API token as both username and password, 535 otherwise), and a
 * scripted reply to each message (else a plain "250 Ok": Postmark documents no id in it).
 */
function startFakePostmark(tls: { key: Buffer; cert: Buffer }) {
  return startProviderSmtpFake({
    tls,
    accepts: (u, p) => u === TOKEN && p === TOKEN,
    refusal: '5.7.8 Authentication failed',
    accepted: () => 'Ok',
  });
}

function settingsFor(plain: Record<string, unknown>): PostmarkDeliverySettings {
  return plainToInstance(PostmarkDeliverySettings, plain);
}

const headerOf = (raw: Buffer): string =>
  raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1');

describe('postmark transport: SMTP, signed bytes unchanged', () => {
  let pki: TestPki;
  let identity: SigningIdentity;
  let server: Awaited<ReturnType<typeof startFakePostmark>>;
  let fake: Awaited<ReturnType<typeof startFakePostmark>>['fake'];
  const transport = new PostmarkTransport(loopbackEgress());
  let settings: PostmarkDeliverySettings;
  let signed: Buffer;

  before(async () => {
    pki = await createTestPki();
    identity = loadSigningIdentity({ pkcs12: pki.identities.rsa2048.p12!, password: P12_PASSWORD });
    server = await startFakePostmark(await selfSignedCertificate());
    fake = server.fake;
    settings = settingsFor({
      serverToken: TOKEN,
      host: '127.0.0.1',
      port: fake.port,
      rejectUnauthorized: false,
    });
    // Postmark keeps the contract's default format, detached (multipart/signed).
    signed = await signMessage(newsletter20k(), identity);
  });
  after(async () => {
    await transport.close();
    await server.close();
  });

  const sendAndCatch = (s: PostmarkDeliverySettings) =>
    transport.send(signed, ENVELOPE, s).catch((x: unknown) => x);

  test('tracking headers + the multipart/signed message unchanged, verified, token as user and password', async () => {
    assert.match(headerOf(signed), /^Content-Type: multipart\/signed;/im);
    const before = fake.received.length;
    const result = await transport.send(signed, ENVELOPE, settings);
    const got = fake.received[before];
    const lines = 'X-PM-TrackOpens: false\r\nX-PM-TrackLinks: None\r\n';
    assert.equal(got.raw.subarray(0, lines.length).toString('latin1'), lines);
    assert.ok(got.raw.subarray(lines.length).equals(signed));
    assert.ok(!headerOf(got.raw).includes('X-PM-Message-Stream'));
    assert.deepEqual({ from: got.from, to: got.to }, ENVELOPE);
    const openssl = await verifyWithOpenssl(got.raw, pki);
    assert.ok(openssl.ok, openssl.output);
    assert.deepEqual(fake.logins.at(-1), { username: TOKEN, password: TOKEN, overTls: true });
    // No id in Postmark's reply: the reply itself is kept for the attempt log.
    assert.equal(result.response, '250 Ok');
    assert.equal(result.providerMessageId, undefined);
  });

  test('messageStream adds X-PM-Message-Stream in front, the signed bytes stay unchanged', async () => {
    const broadcast = settingsFor({ ...settings, messageStream: 'broadcast' });
    const before = fake.received.length;
    await transport.send(signed, ENVELOPE, broadcast);
    const got = fake.received[before];
    const lines = postmarkHeaderLines(broadcast);
    assert.equal(
      lines.toString('latin1'),
      'X-PM-TrackOpens: false\r\nX-PM-TrackLinks: None\r\nX-PM-Message-Stream: broadcast\r\n',
    );
    assert.ok(got.raw.equals(Buffer.concat([lines, signed])));
    const openssl = await verifyWithOpenssl(got.raw, pki);
    assert.ok(openssl.ok, openssl.output);
  });

  for (const code of [421, 451, 452]) {
    test(`a ${code} reply is transient, and the retry is delivered`, async () => {
      const first = fake.data;
      fake.reply = (n) => (n === first ? { code, text: 'Try again later' } : undefined);
      const before = fake.received.length;
      const e = await sendAndCatch(settings);
      assert.ok(e instanceof DeliveryError, String(e));
      assert.equal(e.permanent, false);
      const classified = classifyDeliveryError(e);
      assert.equal(classified.permanent, false);
      assert.match(classified.reply ?? '', new RegExp(`^${code} `));
      assert.equal(fake.received.length, before);
      await transport.send(signed, ENVELOPE, settings);
      assert.ok(
        fake.received[before].raw.subarray(postmarkHeaderLines(settings).length).equals(signed),
      );
    });
  }

  test('a 550 reply is permanent and keeps the reply', async () => {
    fake.reply = () => ({ code: 550, text: 'Sender signature not confirmed' });
    const e = await sendAndCatch(settings);
    fake.reply = () => undefined;
    assert.ok(e instanceof DeliveryError);
    assert.equal(classifyDeliveryError(e).permanent, true);
    assert.match(e.reply ?? '', /^550 Sender signature not confirmed/);
  });

  test('a wrong token gets 535: permanent, and the token appears in no message', async () => {
    const wrong = settingsFor({ ...settings, serverToken: 'wrong-secret-token' });
    const e = await sendAndCatch(wrong);
    assert.ok(e instanceof DeliveryError);
    assert.equal(classifyDeliveryError(e).permanent, true);
    assert.match(e.reply ?? '', /^535 /);
    assert.ok(!`${e.message} ${e.reply}`.includes('wrong-secret-token'));
  });

  test('verify() logs in without sending mail, and reports a refused token as permanent', async () => {
    const before = fake.data;
    await transport.verify(settings);
    assert.deepEqual(fake.logins.at(-1), { username: TOKEN, password: TOKEN, overTls: true });
    const e = await transport
      .verify(settingsFor({ ...settings, serverToken: 'nope' }))
      .catch((x: unknown) => x);
    assert.ok(e instanceof DeliveryError && e.permanent, String(e));
    assert.match(e.reply ?? '', /^535 /);
    assert.equal(fake.data, before);
  });

  test('an unreachable server is transient', async () => {
    const e = await sendAndCatch(settingsFor({ ...settings, port: await freePort() }));
    assert.ok(e instanceof DeliveryError);
    assert.equal(classifyDeliveryError(e).permanent, false);
  });

  test('the server certificate is checked by default: a self-signed one is refused', async () => {
    const strict = settingsFor({ serverToken: TOKEN, host: '127.0.0.1', port: fake.port });
    assert.equal(strict.rejectUnauthorized, true);
    const before = fake.data;
    const e = await transport.verify(strict).catch((x: unknown) => x);
    assert.ok(e instanceof DeliveryError && !e.permanent, String(e));
    assert.equal(fake.data, before);
  });

  test('settings: defaults, the secret field, and what validation refuses', async () => {
    const s = settingsFor({ serverToken: TOKEN });
    assert.deepEqual(
      {
        host: s.host,
        port: s.port,
        rejectUnauthorized: s.rejectUnauthorized,
        stream: s.messageStream,
      },
      { host: 'smtp.postmarkapp.com', port: 587, rejectUnauthorized: true, stream: undefined },
    );
    assert.deepEqual(transport.secretFields, ['serverToken']);
    const errorsOf = async (plain: Record<string, unknown>) =>
      (await validate(settingsFor(plain), { whitelist: true, forbidNonWhitelisted: true })).map(
        (e) => e.property,
      );
    assert.deepEqual(await errorsOf({ serverToken: TOKEN, messageStream: 'broadcast' }), []);
    assert.deepEqual(await errorsOf({}), ['serverToken']);
    assert.deepEqual(await errorsOf({ serverToken: 'a b' }), ['serverToken']);
    // A stream ID cannot smuggle a header line in front of the message.
    assert.deepEqual(
      await errorsOf({ serverToken: TOKEN, messageStream: 'broadcast\r\nBcc: x@example.org' }),
      ['messageStream'],
    );
    assert.deepEqual(await errorsOf({ serverToken: TOKEN, trackOpens: true }), ['trackOpens']);
  });
});
