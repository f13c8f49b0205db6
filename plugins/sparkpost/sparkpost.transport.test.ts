import { loopbackEgress } from '../../test/helpers/egress';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { loadSigningIdentity, signMessage, type SigningIdentity } from '../../src/smime';
import { classifyDeliveryError } from '../../src/relay/delivery-errors';
import { newsletter20k, newsletterByName } from '../../test/fixtures/newsletters';
import { createTestPki, P12_PASSWORD, type TestPki } from '../../test/helpers/pki';
import { verifyWithOpenssl } from '../../test/helpers/openssl';
import {
  SparkPostDeliverySettings,
  SparkPostTransport,
  sparkpostApiRoot,
} from './sparkpost.transport';

const API_KEY = '14ac5499cfdd2bb2859e4476d2e5b1d2bad079bf';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The request body as JSON, when it was JSON. */
  json?: {
    options?: Record<string, unknown>;
    recipients?: { address: { email: string } }[];
    content?: { email_rfc822?: string };
    return_path?: string;
  };
}

/** A loopback stand-in for SparkPost's API, answering as its reference documents. */
class FakeSparkPost {
  readonly received: Received[] = [];
  readonly scripted: { status: number; body: object }[] = [];
  /** Recipients the fake refuses, as SparkPost does for invalid or suppressed ones. */
  readonly refuse = new Set<string>();
  private server?: Server;

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
        const r: Received = { method: req.method!, url: req.url!, headers: req.headers };
        if (req.headers['content-type'] === 'application/json') r.json = JSON.parse(text);
        this.received.push(r);
        const answer = this.scripted.shift() ?? this.answer(r);
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  private answer(r: Received): { status: number; body: object } {
    if (r.headers.authorization !== API_KEY) {
      return { status: 401, body: { errors: [{ message: 'Unauthorized.' }] } };
    }
    if (r.method === 'GET' && r.url === '/api/v1/account') {
      return { status: 200, body: { results: { customer_id: 102938, status: 'active' } } };
    }
    if (r.method !== 'POST' || r.url !== '/api/v1/transmissions') {
      return { status: 404, body: { errors: [{ message: 'resource not found', code: '1600' }] } };
    }
    const rcpts = r.json?.recipients ?? [];
    if (rcpts.length === 0 || typeof r.json?.content?.email_rfc822 !== 'string') {
      const errors = [{ message: 'required field is missing', code: '1400' }];
      return { status: 422, body: { errors } };
    }
    const refused = rcpts.filter((x) => this.refuse.has(x.address.email));
    const results = {
      total_rejected_recipients: refused.length,
      total_accepted_recipients: rcpts.length - refused.length,
      id: String(11668787484950529n + BigInt(this.received.length)),
      ...(refused.length && {
        rcpt_to_errors: refused.map(() => ({ message: 'invalid recipient', code: '1902' })),
      }),
    };
    return { status: 200, body: { results } };
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const envelope = { from: 'bounces@example.com', to: ['reader@example.net'] };

describe('sparkpost transport', () => {
  const fake = new FakeSparkPost();
  const transport = new SparkPostTransport(loopbackEgress(), {
    documented: (root) => root === fake.url,
  });
  const settings = (over: Partial<SparkPostDeliverySettings> = {}) =>
    plainToInstance(SparkPostDeliverySettings, { apiKey: API_KEY, baseUrl: fake.url, ...over });
  const failureOf = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail('expected a failure'),
      (e: unknown) => classifyDeliveryError(e),
    );
  let pki: TestPki;
  let identity: SigningIdentity;
  let signed: Buffer;

  before(async () => {
    pki = await createTestPki();
    identity = loadSigningIdentity({ pkcs12: pki.identities.rsa2048.p12!, password: P12_PASSWORD });
    signed = await signMessage(newsletter20k(), identity);
    await fake.start();
  });
  after(() => fake.stop());

  test('posts the signed bytes unchanged as email_rfc822 with tracking off', async () => {
    const result = await transport.send(signed, envelope, settings());
    const got = fake.received.at(-1)!;
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/api/v1/transmissions');
    assert.equal(got.headers.authorization, API_KEY, 'the bare key, no Bearer');
    assert.deepEqual(got.json?.options, {
      open_tracking: false,
      click_tracking: false,
      inline_css: false,
    });
    assert.deepEqual(got.json?.recipients, [{ address: { email: 'reader@example.net' } }]);
    assert.equal(got.json?.return_path, 'bounces@example.com');
    const received = Buffer.from(got.json?.content?.email_rfc822 ?? '', 'utf8');
    assert.ok(received.equals(signed), 'email_rfc822 is byte-identical to the signed output');
    const openssl = await verifyWithOpenssl(received, pki);
    assert.ok(openssl.ok, openssl.output);
    assert.match(result.providerMessageId ?? '', /^\d{17}$/);
    assert.match(result.response ?? '', /^200 transmission \d+: 1 accepted, 0 rejected$/);
  });

  test('every recipient is listed; rejected ones are reported; none accepted fails', async () => {
    fake.refuse.add('gone@example.org');
    try {
      const two = { from: '', to: ['reader@example.net', 'gone@example.org'] };
      const result = await transport.send(signed, two, settings());
      const got = fake.received.at(-1)!;
      assert.deepEqual(
        got.json?.recipients?.map((r) => r.address.email),
        ['reader@example.net', 'gone@example.org'],
      );
      assert.equal(got.json?.return_path, undefined, 'a null sender sets no return_path');
      assert.match(result.response ?? '', /1 accepted, 1 rejected \(invalid recipient \(1902\)\)/);
      const none = { from: envelope.from, to: ['gone@example.org'] };
      const failure = await failureOf(transport.send(signed, none, settings()));
      assert.equal(failure.permanent, true);
      assert.match(failure.message, /accepted none of the recipients/);
    } finally {
      fake.refuse.clear();
    }
  });

  test('429, 420 and 5xx are transient; 400, 401 and 422 are permanent', async () => {
    const cases: [number, string, boolean][] = [
      [429, 'Too many requests', false],
      [420, 'Exceed Sending Limit (hourly)', false],
      [500, 'Internal Server Error', false],
      [503, 'Service Unavailable', false],
      [400, 'Invalid domain', true],
      [422, 'required field is missing', true],
    ];
    for (const [status, message, permanent] of cases) {
      fake.scripted.push({ status, body: { errors: [{ message, code: '7001' }] } });
      const failure = await failureOf(transport.send(signed, envelope, settings()));
      assert.equal(failure.permanent, permanent, `${status}: ${failure.message}`);
      assert.equal(failure.reply, `${status} ${message} (7001)`);
    }
    const wrongKey = await failureOf(transport.send(signed, envelope, settings({ apiKey: 'x' })));
    assert.equal(wrongKey.permanent, true);
    assert.match(wrongKey.message, /401: the API key was refused/);
  });

  test('an API that cannot be reached is a transient failure', async () => {
    const closed = new FakeSparkPost();
    await closed.start();
    const url = closed.url;
    await closed.stop();
    const failure = await failureOf(transport.send(signed, envelope, settings({ baseUrl: url })));
    assert.equal(failure.permanent, false);
    assert.match(
      failure.message,
      /SparkPost could not be reached: 127\.0\.0\.1:\d+ refused the connection/,
    );
  });

  test('verify() reads the account with the key', async () => {
    await transport.verify(settings());
    assert.equal(fake.received.at(-1)!.url, '/api/v1/account');
    assert.equal(fake.received.at(-1)!.headers.authorization, API_KEY);
    const bad = await failureOf(transport.verify(settings({ apiKey: 'not-the-key' })));
    assert.equal(bad.permanent, true);
    assert.match(bad.message, /401/);
    assert.doesNotMatch(`${bad.message} ${bad.reply}`, /not-the-key/);
  });

  test('signed content with {{ is refused when detached; opaque signing carries it', async () => {
    const raw = Buffer.from(
      'From: News <news@example.com>\r\nTo: reader@example.net\r\nSubject: Hi {{name}}\r\n' +
        'Date: Wed, 12 Jun 2024 10:00:00 +0000\r\nMessage-ID: <braces@example.com>\r\n' +
        'MIME-Version: 1.0\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n' +
        '<p>Hello {{ name or "reader" }}</p>\r\n',
      'latin1',
    );
    const detached = await signMessage(raw, identity);
    const before = fake.received.length;
    const refused = await failureOf(transport.send(detached, envelope, settings()));
    assert.equal(refused.permanent, true);
    assert.match(refused.message, /"\{\{".*signatureFormat "opaque"/);
    assert.equal(fake.received.length, before, 'nothing was sent');

    const opaqueSettings = settings({ signatureFormat: 'opaque' });
    assert.equal(transport.signatureFormat(opaqueSettings), 'opaque');
    assert.equal(transport.signatureFormat(settings()), 'detached');
    const opaque = await signMessage(raw, identity, { format: 'opaque' });
    await transport.send(opaque, envelope, opaqueSettings);
    const sent = Buffer.from(fake.received.at(-1)!.json?.content?.email_rfc822 ?? '', 'utf8');
    assert.ok(sent.equals(opaque));
    const openssl = await verifyWithOpenssl(sent, pki);
    assert.ok(openssl.ok, openssl.output);
  });

  test('an unsigned 8-bit UTF-8 message goes byte for byte; 8-bit non-UTF-8 is refused', async () => {
    const utf8 = newsletterByName('utf8-8bit-alternative').raw;
    assert.ok(
      utf8.some((b) => b > 0x7f),
      'the fixture has 8-bit bytes',
    );
    await transport.send(utf8, envelope, settings());
    const sent = Buffer.from(fake.received.at(-1)!.json?.content?.email_rfc822 ?? '', 'utf8');
    assert.ok(sent.equals(utf8));
    const latin1 = Buffer.from('Subject: caf\xe9\r\n\r\nna\xefve\r\n', 'latin1');
    const failure = await failureOf(transport.send(latin1, envelope, settings()));
    assert.equal(failure.permanent, true);
    assert.match(failure.message, /not UTF-8/);
  });

  test('settings: apiKey is secret, defaults, region roots, return_path can be left out', async () => {
    assert.deepEqual(transport.secretFields, ['apiKey']);
    const check = (plain: object) =>
      validate(plainToInstance(SparkPostDeliverySettings, plain), {
        whitelist: true,
        forbidNonWhitelisted: true,
      });
    assert.deepEqual(await check({ apiKey: API_KEY }), []);
    assert.notDeepEqual(await check({ apiKey: API_KEY, region: 'ap' }), []);
    assert.notDeepEqual(await check({ apiKey: 'abc\r\nX-Injected: 1' }), []);
    assert.notDeepEqual(await check({ apiKey: API_KEY, signatureFormat: 'clear' }), []);
    assert.notDeepEqual(await check({ apiKey: API_KEY, baseUrl: 'ftp://x' }), []);
    const plain = plainToInstance(SparkPostDeliverySettings, { apiKey: API_KEY });
    assert.equal(plain.useEnvelopeSender, true);
    assert.equal(sparkpostApiRoot(plain), 'https://api.sparkpost.com');
    const eu = plainToInstance(SparkPostDeliverySettings, { apiKey: API_KEY, region: 'eu' });
    assert.equal(sparkpostApiRoot(eu), 'https://api.eu.sparkpost.com');
    await transport.send(signed, envelope, settings({ useEnvelopeSender: false }));
    assert.equal(fake.received.at(-1)!.json?.return_path, undefined);
  });
});
