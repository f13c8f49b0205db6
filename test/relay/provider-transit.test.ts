/**
 * What survives a provider's changes in transit, through the whole relay: Amazon SES
 * replaces Date and Message-ID (a loopback SES applies exactly that to what it accepts);
 * SendGrid is reported to MIME-encode long List-Unsubscribe fields (applied to what its
 * loopback stand-in receives). The relay's DKIM signature must still pass on the copy the
 * provider delivers, RFC 8058 one-click must still work, and the reader's client
 * (Thunderbird) must still show the S/MIME signature as valid.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
// mailauth 4 ships CommonJS with its own typings.
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { startApp, type TestApp } from '../support/app';
import {
  eventually,
  op,
  queuedId,
  setupTenant,
  submit,
  submitter,
  type RelayTenant,
} from '../support/relay';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { createTestPki, type TestPki } from '../helpers/pki';
import { rfc5322Date } from '../helpers/mail-date';
import { thunderbirdFor, type Thunderbird } from '../helpers/thunderbird';
import { VERIFIERS, verifyWithAll } from '../helpers/verifiers';
import { startFakeSes, sesTransit, type FakeSes } from '../../plugins/ses/fake-ses';
import { dkimSign, type DkimSigningKey } from '../../src/dkim/dkim-signer';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate, startProviderSmtpFake } from '../helpers/provider-smtp-fake';
import { sendgridTransit } from '../../plugins/sendgrid/sendgrid-transit';
import { verifyMessage } from '../../src';

const KEY = {
  accessKeyId: 'AKIAFAKETRANSIT00001',
  secretAccessKey: 'transit-secret',
  region: 'eu-west-1',
};
const HOUR = 3_600_000;

const published = new Map<string, string>();
const resolver = async (name: string, rrtype: string): Promise<string[][]> => {
  const value = rrtype === 'TXT' ? published.get(name.toLowerCase()) : undefined;
  if (value) return [[value]];
  throw Object.assign(new Error(`no ${rrtype} record for ${name}`), { code: 'ENOTFOUND' });
};
async function dkimResult(raw: Buffer): Promise<string[]> {
  const r = await dkimVerify(raw, { resolver });
  return r.results.map(
    (x) => `${x.status.result}${x.status.comment ? ` (${x.status.comment})` : ''}`,
  );
}

/** Sets the tenant's delivery and a DKIM key (published in the stub resolver). */
async function deliverWithDkim(
  app: TestApp,
  tenantId: string,
  delivery: object,
  selector: string,
): Promise<void> {
  const d = await app.request('PUT', `/v1/tenants/${tenantId}/delivery`, { ...op, body: delivery });
  assert.equal(d.status, 200, d.text);
  const k = await app.request('PUT', `/v1/tenants/${tenantId}/dkim`, {
    ...op,
    body: { domain: 'example.com', selector },
  });
  assert.equal(k.status, 200, k.text);
  published.set(k.json.dnsRecord.name, k.json.dnsRecord.value);
}

function newsletter(marker: string, date: Date): Buffer {
  return Buffer.from(
    [
      'From: Example News <news@example.com>',
      'To: reader@example.net',
      `Subject: Transit ${marker}`,
      `Date: ${rfc5322Date(date)}`,
      `Message-ID: <${marker}@news.example.com>`,
      'List-Unsubscribe: <https://lists.example.com/subscription/9c2f/unsubscribe>',
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Transit check ${marker}.`,
      '',
    ].join('\r\n'),
  );
}

describe('Amazon SES: Date and Message-ID replaced in transit', { timeout: 180_000 }, () => {
  let app: TestApp;
  let sink: SmtpSink;
  let ses: FakeSes;
  let tenant: RelayTenant;
  let pki: TestPki;
  let tb: Thunderbird;

  before(async () => {
    pki = await createTestPki();
    [tb, app, ses, sink] = await Promise.all([
      thunderbirdFor(pki),
      startApp({}),
      startFakeSes(KEY),
      startSink(),
    ]);
    tenant = await setupTenant(app, sink.port);
    await deliverWithDkim(app, tenant.id, { transport: 'ses', ...KEY, endpoint: ses.endpoint }, 'ses1');
  });

  after(async () => {
    await app?.close();
    await ses?.stop();
    await sink?.stop();
    await tb?.close();
  });

  async function throughSes(marker: string, date: Date) {
    const client = submitter(app.smtpPort!, tenant, 1);
    try {
      queuedId(await submit(client, newsletter(marker, date)));
    } finally {
      client.close();
    }
    return eventually(
      async () => ses.requests.find((r) => r.raw?.includes(`Transit ${marker}`)),
      30_000,
      `${marker} at SES`,
    );
  }

  for (const [name, offset] of [
    ['fresh', -60_000],
    ['composed 3 hours before signing', -3 * HOUR],
  ] as const) {
    test(`${name}: DKIM passes and Thunderbird shows the signature on the copy SES delivers`, async () => {
      const sent = await throughSes(name.split(' ')[0], new Date(Date.now() + offset));
      assert.ok(sent.raw && sent.delivered);
      const header = sent.raw.toString('latin1').slice(0, 600);
      const h = /h=([^;]+);/.exec(header.replace(/\r\n\s+/g, ''))?.[1] ?? '';
      assert.ok(h.split(':').includes('from') && h.split(':').includes('list-unsubscribe'), h);
      assert.ok(!h.split(':').includes('date') && !h.split(':').includes('message-id'), h);
      // SES really changed both fields.
      const delivered = sent.delivered.toString('latin1');
      assert.doesNotMatch(delivered, new RegExp(`Message-ID: <${name.split(' ')[0]}@`));
      assert.match(delivered, /amazonses\.com>/);
      assert.deepEqual(await dkimResult(sent.delivered), ['pass']);
      const report = await verifyMessage(sent.delivered, { trustAnchors: [pki.rootPem] });
      assert.ok(report.valid, JSON.stringify(report.errors));
      const v = await tb.verdict(sent.delivered);
      assert.equal(v.statusName, 'SUCCESS', JSON.stringify(v));
      assert.equal(v.ok, true);
      const results = await verifyWithAll(sent.delivered, pki);
      for (const verifier of VERIFIERS) assert.ok(results[verifier].ok, results[verifier].output);
    });
  }

  test('control: a DKIM signature over Date and Message-ID fails on the SES copy', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key: DkimSigningKey = {
      domain: 'example.com',
      selector: 'control',
      algorithm: 'rsa-sha256',
      privateKey,
    };
    const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    published.set('control._domainkey.example.com', `v=DKIM1; k=rsa; p=${p}`);
    const signed = await dkimSign(newsletter('control', new Date()), key);
    assert.deepEqual(await dkimResult(signed), ['pass'], 'passes before transit');
    const afterSes = sesTransit(signed, 'x', 'eu-west-1', new Date(Date.now() + 5000));
    const [result] = await dkimResult(afterSes);
    assert.match(result, /^fail/);
  });
}); // prettier-ignore

describe('SendGrid: long List-Unsubscribe fields re-encoded in transit', { timeout: 180_000 }, () => {
  const API_KEY = 'SG.transit-key.0123456789abcdef';
  let app: TestApp;
  let tenant: RelayTenant;
  let pki: TestPki;
  let tb: Thunderbird;
  let provider: Awaited<ReturnType<typeof startProviderSmtpFake>>;
  let platform: Awaited<ReturnType<typeof startPlatform>>;

  /** The platform's own unsubscribe endpoint (listmonk-like), recording one-click POSTs. */
  async function startPlatform() {
    const posts: { path: string; body: string; type?: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.method === 'POST') posts.push({ path: req.url ?? '', body, type: req.headers['content-type'] });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('unsubscribed');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { posts, base, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  before(async () => {
    pki = await createTestPki();
    [tb, app, provider, platform] = await Promise.all([
      thunderbirdFor(pki),
      startApp({ PUBLIC_URL: 'https://relay.example.com', PLATFORM_ALLOW_PRIVATE: 'true' }),
      selfSignedCertificate().then((tls) =>
        startProviderSmtpFake({
          tls,
          accepts: (u, p) => u === 'apikey' && p === API_KEY,
          refusal: 'Authentication failed: Bad username / password',
          accepted: (n) => `Ok: queued as sg-${n}`,
        }),
      ),
      startPlatform(),
    ]);
    tenant = await setupTenant(app, 9);
    await deliverWithDkim(
      app,
      tenant.id,
      {
        transport: 'sendgrid',
        apiKey: API_KEY,
        host: '127.0.0.1',
        port: provider.fake.port,
        rejectUnauthorized: false,
      },
      'sg1',
    );
  });

  after(async () => {
    await app?.close();
    await provider?.close();
    await platform?.close();
    await tb?.close();
  });

  const LINK_PATH = '/subscription/0b6f2d1e-8c4a-4f3b-9a7e-5d2c1b0a9f8e/9d2c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';

  function listmonkNewsletter(marker: string): Buffer {
    return Buffer.from(
      [
        'From: Example News <news@example.com>',
        'To: reader@example.net',
        `Subject: Transit ${marker}`,
        `Date: ${rfc5322Date(new Date())}`,
        `Message-ID: <${marker}@news.example.com>`,
        `List-Unsubscribe: <mailto:unsubscribe@lists.example.com?subject=unsubscribe>, <${platform.base}${LINK_PATH}>`,
        'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        '',
        `Transit check ${marker}.`,
        '',
      ].join('\r\n'),
    );
  }

  async function throughSendgrid(marker: string): Promise<Buffer> {
    const client = submitter(app.smtpPort!, tenant, 1);
    try {
      queuedId(await submit(client, listmonkNewsletter(marker)));
    } finally {
      client.close();
    }
    const got = await eventually(
      async () => provider.fake.received.find((r) => r.raw.includes(`Transit ${marker}`)),
      30_000,
      `${marker} at SendGrid`,
    );
    return sendgridTransit(got.raw);
  }

  const linksOf = (raw: Buffer): string[] => {
    const text = raw.toString('latin1');
    const header = text.slice(0, text.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
    const field = /^List-Unsubscribe:(.*)$/im.exec(header)?.[1] ?? '';
    return [...field.matchAll(/<([^>]+)>/g)].map((m) => m[1]);
  };

  test('the relay shortens the field: DKIM, one-click and the S/MIME signature survive', async () => {
    const delivered = await throughSendgrid('sg-long');
    const links = linksOf(delivered);
    assert.equal(links.length, 1, `one https link left: ${links.join(', ')}`);
    assert.match(links[0], /^https:\/\/relay\.example\.com\/u\/[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(await dkimResult(delivered), ['pass']);
    const path = new URL(links[0]).pathname;
    // RFC 8058 one-click: a POST with this body reaches the platform's own link.
    const post = await fetch(app.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    assert.equal(post.status, 200, await post.text());
    assert.deepEqual(platform.posts, [
      { path: LINK_PATH, body: 'List-Unsubscribe=One-Click', type: 'application/x-www-form-urlencoded' },
    ]);
    // A reader who clicks is sent to the platform's page.
    const get = await fetch(app.url + path, { redirect: 'manual' });
    assert.equal(get.status, 302);
    assert.equal(get.headers.get('location'), `${platform.base}${LINK_PATH}`);
    assert.equal((await fetch(`${app.url}/u/AAAAAAAAAAAAAAAAAAAAAA`, { redirect: 'manual' })).status, 404);
    const v = await tb.verdict(delivered);
    assert.equal(v.statusName, 'SUCCESS', JSON.stringify(v));
    const report = await verifyMessage(delivered, { trustAnchors: [pki.rootPem] });
    assert.ok(report.valid, JSON.stringify(report.errors));
    assert.equal(report.format, 'opaque');
  });

  test('control: the same field left long is encoded by SendGrid, and DKIM and one-click break', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key: DkimSigningKey = { domain: 'example.com', selector: 'sgcontrol', algorithm: 'rsa-sha256', privateKey };
    published.set('sgcontrol._domainkey.example.com', `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`);
    const signed = await dkimSign(listmonkNewsletter('sg-control'), key);
    assert.deepEqual(await dkimResult(signed), ['pass']);
    const delivered = sendgridTransit(signed);
    assert.match(delivered.toString('latin1'), /^List-Unsubscribe: =\?UTF-8\?Q\?/m);
    assert.deepEqual(linksOf(delivered), [], 'no <https://…> link left to one-click');
    assert.match((await dkimResult(delivered))[0], /^fail/);
  });
}); // prettier-ignore
