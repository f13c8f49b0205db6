import { loopbackEgress } from '../../test/helpers/egress';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { loadSigningIdentity, signMessage, verifyMessage } from '../../src/smime';
import { classifyDeliveryError } from '../../src/relay/delivery-errors';
import { newsletter20k } from '../../test/fixtures/newsletters';
import { createTestPki, P12_PASSWORD, type TestPki } from '../../test/helpers/pki';
import { verifyWithOpenssl } from '../../test/helpers/openssl';
import { MailgunDeliverySettings, MailgunTransport, mailgunApiRoot } from './mailgun.transport';

const API_KEY = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';
const DOMAIN = 'mg.example.com';

interface FormPart {
  name: string;
  filename?: string;
  data: Buffer;
}

/** multipart/form-data (RFC 7578), read by hand so the file part's bytes are seen as sent. */
function parseFormData(body: Buffer, contentType: string): FormPart[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  assert.ok(boundary, `no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`, 'latin1');
  const nextDelimiter = Buffer.concat([Buffer.from('\r\n'), delimiter]);
  const parts: FormPart[] = [];
  let at = body.indexOf(delimiter);
  assert.notEqual(at, -1, 'no first boundary');
  for (;;) {
    const start = at + delimiter.length;
    if (body.toString('latin1', start, start + 2) === '--') return parts;
    const end = body.indexOf(nextDelimiter, start);
    assert.notEqual(end, -1, 'a part without a closing boundary');
    const part = body.subarray(start + 2, end);
    const headEnd = part.indexOf('\r\n\r\n');
    const head = part.toString('latin1', 0, headEnd);
    const disposition = /^content-disposition:\s*form-data;(.*)$/im.exec(head)?.[1] ?? '';
    const name = /\bname="([^"]*)"/.exec(disposition)?.[1];
    assert.ok(name !== undefined, `a part without a name: ${head}`);
    const filename = /\bfilename="([^"]*)"/.exec(disposition)?.[1];
    parts.push({ name, filename, data: part.subarray(headEnd + 4) });
    at = end + 2;
  }
}

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  parts: FormPart[];
}

/** A loopback stand-in for Mailgun's API, answering as its reference documents. */
class FakeMailgun {
  readonly received: Received[] = [];
  /** Answers to give instead of the normal ones, first in first out. */
  readonly scripted: { status: number; body: string }[] = [];
  unsubscribeTracking = false;
  private server?: Server;

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const type = req.headers['content-type'] ?? '';
        const parts = type.startsWith('multipart/form-data') ? parseFormData(body, type) : [];
        const r = { method: req.method!, url: req.url!, headers: req.headers, body, parts };
        this.received.push(r);
        const answer = this.scripted.shift() ?? this.answer(r);
        const json = answer.body.startsWith('{');
        res.writeHead(answer.status, { 'content-type': json ? 'application/json' : 'text/plain' });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  private answer(r: Received): { status: number; body: string } {
    const expected = `Basic ${Buffer.from(`api:${API_KEY}`).toString('base64')}`;
    if (r.headers.authorization !== expected) return { status: 401, body: 'Forbidden' };
    const send = /^\/v3\/([^/]+)\/messages\.mime$/.exec(r.url);
    const tracking = /^\/v3\/domains\/([^/]+)\/tracking$/.exec(r.url);
    const domain = send?.[1] ?? tracking?.[1];
    if (domain && domain !== DOMAIN) {
      return { status: 404, body: JSON.stringify({ message: `Domain not found: ${domain}` }) };
    }
    if (send && r.method === 'POST') {
      if (!r.parts.some((p) => p.name === 'to')) {
        return { status: 400, body: JSON.stringify({ message: "'to' parameter is missing" }) };
      }
      const id = `<20240612101514.${this.received.length}.mailgun@${DOMAIN}>`;
      return { status: 200, body: JSON.stringify({ id, message: 'Queued. Thank you.' }) };
    }
    if (tracking && r.method === 'GET') {
      const unsubscribe = { active: this.unsubscribeTracking, html_footer: '', text_footer: '' };
      const settings = { open: { active: true, place_at_the_top: false }, click: { active: true } };
      return {
        status: 200,
        body: JSON.stringify({ tracking: { ...settings, unsubscribe, web_scheme: 'https' } }),
      };
    }
    return { status: 404, body: '404 page not found' };
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const settingsFor = (fake: FakeMailgun, over: Partial<MailgunDeliverySettings> = {}) =>
  plainToInstance(MailgunDeliverySettings, {
    apiKey: API_KEY,
    domain: DOMAIN,
    baseUrl: fake.url,
    ...over,
  });

const envelope = { from: 'bounces@example.com', to: ['reader@example.net'] };

describe('mailgun transport', () => {
  const fake = new FakeMailgun();
  const transport = new MailgunTransport(loopbackEgress(), {
    documented: (root) => root === fake.url,
  });
  let pki: TestPki;
  let signed: Buffer;

  before(async () => {
    pki = await createTestPki();
    const identity = loadSigningIdentity({
      pkcs12: pki.identities.rsa2048.p12!,
      password: P12_PASSWORD,
    });
    signed = await signMessage(newsletter20k(), identity);
    await fake.start();
  });
  after(() => fake.stop());

  test('posts the signed bytes unchanged as messages.mime with tracking off', async () => {
    const two = { from: envelope.from, to: ['reader@example.net', 'second@example.org'] };
    const result = await transport.send(signed, two, settingsFor(fake));
    const got = fake.received.at(-1)!;
    assert.equal(got.method, 'POST');
    assert.equal(got.url, `/v3/${DOMAIN}/messages.mime`);
    assert.match(got.headers['content-type'] ?? '', /^multipart\/form-data; boundary=/);
    const auth = `Basic ${Buffer.from(`api:${API_KEY}`).toString('base64')}`;
    assert.equal(got.headers.authorization, auth);
    const fields = (name: string) => got.parts.filter((p) => p.name === name);
    assert.deepEqual(
      fields('to').map((p) => p.data.toString()),
      ['reader@example.net', 'second@example.org'],
    );
    for (const name of ['o:tracking', 'o:tracking-opens', 'o:tracking-clicks']) {
      assert.deepEqual(
        fields(name).map((p) => p.data.toString()),
        ['no'],
        name,
      );
    }
    const [message] = fields('message');
    assert.ok(message.filename, 'message is sent as a file part');
    assert.ok(
      message.data.equals(signed),
      'the message part is byte-identical to the signed output',
    );
    const openssl = await verifyWithOpenssl(message.data, pki);
    assert.ok(openssl.ok, openssl.output);
    const report = await verifyMessage(message.data, { trustAnchors: [pki.rootPem] });
    assert.equal(report.valid, true, JSON.stringify(report));
    assert.match(result.providerMessageId ?? '', /^20240612101514\.\d+\.mailgun@mg\.example\.com$/);
    assert.equal(result.response, '200 Queued. Thank you.');
  });

  test('429 and 5xx are transient; 400, 401, 404 and 413 are permanent', async () => {
    const cases: [number, string, boolean][] = [
      [429, JSON.stringify({ message: 'Too many requests' }), false],
      [500, JSON.stringify({ message: 'Internal Server Error' }), false],
      [503, 'Service Unavailable', false],
      [400, JSON.stringify({ message: "'from' parameter is not a valid address" }), true],
      [413, JSON.stringify({ message: 'request entity too large' }), true],
    ];
    for (const [status, body, permanent] of cases) {
      fake.scripted.push({ status, body });
      const e = await transport.send(signed, envelope, settingsFor(fake)).then(
        () => assert.fail(`${status} was taken as success`),
        (err: unknown) => err,
      );
      const failure = classifyDeliveryError(e);
      assert.equal(failure.permanent, permanent, `${status}: ${failure.message}`);
      assert.match(failure.reply ?? '', new RegExp(`^${status} `));
    }
    const wrongKey = settingsFor(fake, { apiKey: 'key-wrong' });
    const refused = await transport.send(signed, envelope, wrongKey).catch((e: unknown) => e);
    assert.deepEqual(classifyDeliveryError(refused).permanent, true);
    assert.match(classifyDeliveryError(refused).message, /401/);
    assert.doesNotMatch(String((refused as Error).message), /key-wrong/);
    const unknown = settingsFor(fake, { domain: 'other.example.com' });
    const notFound = await transport.send(signed, envelope, unknown).catch((e: unknown) => e);
    assert.equal(classifyDeliveryError(notFound).permanent, true);
    assert.match(classifyDeliveryError(notFound).reply ?? '', /^404 Domain not found/);
  });

  test('an API that cannot be reached is a transient failure', async () => {
    const closed = new FakeMailgun();
    await closed.start();
    const url = closed.url;
    await closed.stop();
    const e = await transport
      .send(signed, envelope, settingsFor(fake, { baseUrl: url }))
      .catch((err: unknown) => err);
    const failure = classifyDeliveryError(e);
    assert.equal(failure.permanent, false);
    assert.match(
      failure.message,
      /Mailgun could not be reached: 127\.0\.0\.1:\d+ refused the connection/,
    );
  });

  test('verify() reads the domain tracking settings with the key', async () => {
    fake.unsubscribeTracking = false;
    await transport.verify(settingsFor(fake));
    assert.equal(fake.received.at(-1)!.url, `/v3/domains/${DOMAIN}/tracking`);
    const badKey = await transport
      .verify(settingsFor(fake, { apiKey: 'key-wrong' }))
      .catch((e: unknown) => e);
    assert.equal(classifyDeliveryError(badKey).permanent, true);
    assert.match(classifyDeliveryError(badKey).message, /401: the API key was refused/);
  });

  test('verify() refuses a domain whose unsubscribe footer would break the signature', async () => {
    fake.unsubscribeTracking = true;
    try {
      const e = await transport.verify(settingsFor(fake)).catch((err: unknown) => err);
      assert.match(classifyDeliveryError(e).message, /unsubscribe tracking is on/);
    } finally {
      fake.unsubscribeTracking = false;
    }
  });

  test('settings: apiKey is secret, region picks the API root, domain must be a name', async () => {
    assert.deepEqual(transport.secretFields, ['apiKey']);
    const check = async (plain: object) =>
      validate(plainToInstance(MailgunDeliverySettings, plain), {
        whitelist: true,
        forbidNonWhitelisted: true,
      });
    assert.deepEqual(await check({ apiKey: API_KEY, domain: DOMAIN }), []);
    assert.deepEqual(await check({ apiKey: API_KEY, domain: DOMAIN, baseUrl: fake.url }), []);
    assert.notDeepEqual(await check({ apiKey: API_KEY, domain: 'mg.example.com/../x' }), []);
    assert.notDeepEqual(await check({ apiKey: API_KEY, domain: DOMAIN, region: 'ap' }), []);
    assert.notDeepEqual(await check({ apiKey: 'key with spaces', domain: DOMAIN }), []);
    const us = plainToInstance(MailgunDeliverySettings, { apiKey: API_KEY, domain: DOMAIN });
    assert.equal(mailgunApiRoot(us), 'https://api.mailgun.net');
    const eu = plainToInstance(MailgunDeliverySettings, {
      apiKey: 'k',
      domain: DOMAIN,
      region: 'eu',
    });
    assert.equal(mailgunApiRoot(eu), 'https://api.eu.mailgun.net');
  });
});
