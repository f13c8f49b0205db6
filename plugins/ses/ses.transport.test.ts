import { Metrics } from '../../src/health/metrics';
import { loopbackEgress } from '../../test/helpers/egress';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { loadSigningIdentity, signMessage } from '../../src/smime';
import { classifyDeliveryError } from '../../src/relay/delivery-errors';
import { DeliveryError } from '../../src/plugin/contract';
import { createTestPki, P12_PASSWORD, type TestPki } from '../../test/helpers/pki';
import { verifyWithOpenssl } from '../../test/helpers/openssl';
import { newsletter20k } from '../../test/fixtures/newsletters';
import { SesDeliverySettings, SesTransport } from './ses.transport';
import { SesPlugin } from './ses.module';
import { startFakeSes, type FakeSes } from './fake-ses';

const KEY = {
  region: 'eu-west-1',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const ENVELOPE = { from: 'bounces@example.com', to: ['reader@example.net'] };

let pki: TestPki;
let signed: Buffer;
let ses: FakeSes;
const transport = new SesTransport(loopbackEgress(), 500, (e) => e === ses.endpoint);

function settingsFor(overrides: Record<string, unknown> = {}): SesDeliverySettings {
  return plainToInstance(SesDeliverySettings, { ...KEY, endpoint: ses.endpoint, ...overrides });
}

/** The DeliveryError that `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const e = await promise.then(
    () => assert.fail('expected a failure'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof DeliveryError, String(e));
  return e;
}

before(async () => {
  pki = await createTestPki();
  const identity = loadSigningIdentity({
    pkcs12: pki.identities.rsa2048.p12!,
    password: P12_PASSWORD,
  });
  signed = await signMessage(newsletter20k(), identity);
  ses = await startFakeSes(KEY);
});

after(async () => {
  await transport.close();
  await ses.stop();
});

describe('ses transport: SendEmail with the signed bytes', () => {
  test('SES receives the signed message byte for byte, and it verifies with openssl', async () => {
    ses.requests.length = 0;
    const result = await transport.send(
      signed,
      ENVELOPE,
      settingsFor({ configurationSet: 'smime-relay' }),
    );
    assert.equal(ses.requests.length, 1);
    const got = ses.requests[0];
    assert.equal(got.method, 'POST');
    assert.equal(got.path, '/v2/email/outbound-emails');
    assert.ok(got.raw?.equals(signed), 'Content.Raw.Data differs from the signed message');
    const openssl = await verifyWithOpenssl(got.raw!, pki);
    assert.ok(openssl.ok, openssl.output);
    assert.match(result.providerMessageId ?? '', /^0102019[0-9a-f]{16}-/);
    assert.match(result.response ?? '', new RegExp(`MessageId ${result.providerMessageId}$`));
  });

  test('the envelope becomes Destination and the feedback address, with tracking off', async () => {
    ses.requests.length = 0;
    await transport.send(signed, ENVELOPE, settingsFor({ configurationSet: 'smime-relay' }));
    const { body } = ses.requests[0];
    // SES would write FromEmailAddress into the From header field of a Raw message.
    assert.equal('FromEmailAddress' in body, false);
    assert.equal(body.FeedbackForwardingEmailAddress, 'bounces@example.com');
    assert.deepEqual(body.Destination, { ToAddresses: ['reader@example.net'] });
    assert.equal(body.ConfigurationSetName, 'smime-relay');
    assert.deepEqual(body.ConfigurationOverrides, {
      Tracking: { OpenTrackingEnabled: 'DISABLED', ClickTrackingEnabled: 'DISABLED' },
    });
    assert.deepEqual(Object.keys(body.Content as object), ['Raw']);
  });

  test('a null sender and no configuration set leave those fields out', async () => {
    ses.requests.length = 0;
    const to = ['a@example.net', 'b@example.org'];
    await transport.send(signed, { from: '', to }, settingsFor());
    const { body } = ses.requests[0];
    assert.equal('FeedbackForwardingEmailAddress' in body, false);
    assert.equal('ConfigurationSetName' in body, false);
    assert.deepEqual(body.Destination, { ToAddresses: to });
  });

  test('every request is signed with SigV4 for the key, the region and the ses service', async () => {
    ses.requests.length = 0;
    await transport.send(signed, ENVELOPE, settingsFor());
    await transport.verify(settingsFor());
    assert.deepEqual(
      ses.requests.map((r) => `${r.method} ${r.path}`),
      ['POST /v2/email/outbound-emails', 'GET /v2/email/account'],
    );
    for (const r of ses.requests) {
      assert.match(
        String(r.headers.authorization),
        /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/ses\/aws4_request, /,
      );
    }
  });
});

describe('ses transport: errors are classified and retried or failed', () => {
  const cases = [
    { status: 429, type: 'TooManyRequestsException', message: 'Maximum sending rate exceeded.' },
    { status: 500, type: 'InternalServiceErrorException', message: 'Internal error.' },
    { status: 503, type: 'ServiceUnavailable', message: 'Service unavailable.' },
    { status: 400, type: 'LimitExceededException', message: 'Daily message quota exceeded.' },
    { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
    {
      status: 403,
      type: 'InvalidSignatureException',
      message: 'Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z',
    },
  ];
  for (const c of cases) {
    test(`${c.status} ${c.type} (${c.message}) is transient; the next attempt delivers`, async () => {
      ses.requests.length = 0;
      ses.script.push(c);
      const e = await failure(transport.send(signed, ENVELOPE, settingsFor()));
      const classified = classifyDeliveryError(e);
      assert.equal(classified.permanent, false, classified.message);
      assert.match(classified.reply ?? '', new RegExp(`^${c.status} ${c.type}: `));
      assert.equal(ses.requests.length, 1, 'the SDK must not retry on its own');
      const retried = await transport.send(signed, ENVELOPE, settingsFor());
      assert.ok(retried.providerMessageId);
      assert.ok(ses.requests[1].raw?.equals(signed));
    });
  }

  const permanent = [
    { status: 400, type: 'MessageRejected', message: 'Email address is not verified.' },
    { status: 400, type: 'BadRequestException', message: 'Missing final @domain' },
    { status: 400, type: 'MailFromDomainNotVerifiedException', message: 'MAIL FROM not verified' },
    { status: 400, type: 'SendingPausedException', message: 'Sending paused for this account.' },
    { status: 400, type: 'AccountSuspendedException', message: 'Account suspended.' },
    { status: 404, type: 'NotFoundException', message: 'Configuration set does not exist.' },
    { status: 403, type: 'AccessDeniedException', message: 'not authorized: ses:SendRawEmail' },
  ];
  for (const c of permanent) {
    test(`${c.status} ${c.type} fails the message permanently, with SES's reply`, async () => {
      ses.script.push(c);
      const classified = classifyDeliveryError(
        await failure(transport.send(signed, ENVELOPE, settingsFor())),
      );
      assert.equal(classified.permanent, true, classified.message);
      assert.match(classified.reply ?? '', new RegExp(`^${c.status} ${c.type}: ${c.message}`));
      assert.match(classified.reply ?? '', /request id [0-9a-f-]{36}/);
    });
  }

  test('after a 403 for a skewed clock, the next attempt is signed with the server time', async () => {
    const own = new SesTransport(loopbackEgress(), 500, (e) => e === ses.endpoint);
    try {
      const serverTime = new Date(Date.now() + 3 * 3600_000);
      ses.requests.length = 0;
      ses.script.push({
        status: 403,
        type: 'InvalidSignatureException',
        message: 'Signature expired: the request time is now earlier than the server time',
        date: serverTime,
      });
      const first = classifyDeliveryError(await failure(own.send(signed, ENVELOPE, settingsFor())));
      assert.equal(first.permanent, false);
      await own.send(signed, ENVELOPE, settingsFor());
      const amzDate = String(ses.requests[1].headers['x-amz-date']);
      const signedAt = Date.parse(
        amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
      );
      // The client adopted the server's clock (3 h ahead), not its own.
      assert.ok(signedAt > Date.now() + 2 * 3600_000, amzDate);
    } finally {
      await own.close();
    }
  });

  test('a wrong secret key gets 403 from SES and fails permanently, the secret in no message', async () => {
    const wrong = 'not-the-secret-key-0123456789';
    const classified = classifyDeliveryError(
      await failure(transport.send(signed, ENVELOPE, settingsFor({ secretAccessKey: wrong }))),
    );
    assert.equal(classified.permanent, true);
    assert.match(classified.reply ?? '', /^403 InvalidSignatureException: .*signature mismatch/);
    const text = JSON.stringify(classified);
    assert.equal(text.includes(wrong) || text.includes(KEY.secretAccessKey), false, text);
  });

  test('an unknown access key id gets 403 and fails permanently', async () => {
    const classified = classifyDeliveryError(
      await failure(
        transport.send(signed, ENVELOPE, settingsFor({ accessKeyId: 'AKIAUNKNOWNKEY000000' })),
      ),
    );
    assert.equal(classified.permanent, true);
    assert.match(classified.reply ?? '', /^403 UnrecognizedClientException: /);
  });

  test('an endpoint nobody listens on is transient', async () => {
    const closed = await startFakeSes(KEY);
    const endpoint = closed.endpoint;
    await closed.stop();
    const classified = classifyDeliveryError(
      await failure(transport.send(signed, ENVELOPE, settingsFor({ endpoint }))),
    );
    assert.equal(classified.permanent, false);
    assert.match(classified.message, /SES could not be reached .*ECONNREFUSED/);
  });

  test('no answer within the timeout is transient', async () => {
    ses.script.push('hang');
    const classified = classifyDeliveryError(
      await failure(transport.send(signed, ENVELOPE, settingsFor())),
    );
    assert.equal(classified.permanent, false);
    assert.match(classified.message, /SES did not answer within 500 ms/);
  });
});

describe('ses transport: verify() and settings', () => {
  test('verify() passes with working keys and fails permanently with a wrong secret', async () => {
    await transport.verify(settingsFor());
    const e = await failure(transport.verify(settingsFor({ secretAccessKey: 'wrong-secret' })));
    assert.equal(e.permanent, true);
    assert.match(e.reply ?? '', /^403 InvalidSignatureException/);
  });

  test('verify() fails when sending is disabled for the account', async () => {
    ses.sendingEnabled = false;
    try {
      const e = await failure(transport.verify(settingsFor()));
      assert.equal(e.permanent, true);
      assert.match(e.message, /sending is disabled for this SES account in eu-west-1/);
    } finally {
      ses.sendingEnabled = true;
    }
  });

  test('SesPlugin registers a transport with the id "ses"', () => {
    const module = SesPlugin.register({
      role: 'worker',
      env: {},
      maxMessageBytes: 1 << 20,
      egress: loopbackEgress(),
      metrics: new Metrics(),
    });
    assert.equal(module.module, SesPlugin);
    const ids = (module.providers ?? []).map(
      (p) => ((p as { useValue?: { id?: string } }).useValue ?? {}).id,
    );
    assert.ok(ids.includes('ses'), JSON.stringify(ids));
  });

  test('the secret key is the secret field; settings are validated', async () => {
    assert.deepEqual(transport.secretFields, ['secretAccessKey']);
    assert.deepEqual(await validate(settingsFor({ configurationSet: 'no-tracking_1' })), []);
    const bad = plainToInstance(SesDeliverySettings, {
      region: 'Europe',
      accessKeyId: 'short',
      secretAccessKey: '',
      configurationSet: 'has spaces',
      endpoint: 'ftp://example.com',
    });
    const failed = (await validate(bad)).map((e) => e.property).sort();
    assert.deepEqual(failed, [
      'accessKeyId',
      'configurationSet',
      'endpoint',
      'region',
      'secretAccessKey',
    ]);
  });
});
