/**
 * What survives a provider's documented changes in transit, through the whole relay:
 * Amazon SES replaces Date and Message-ID (a loopback SES applies exactly that to what it
 * accepts). The relay's DKIM signature must still pass on the copy SES delivers, and the
 * reader's client (Thunderbird) must still show the S/MIME signature as valid, also for a
 * newsletter composed hours before it was signed.
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
    const d = await app.request('PUT', `/v1/tenants/${tenant.id}/delivery`, {
      ...op,
      body: { transport: 'ses', ...KEY, endpoint: ses.endpoint },
    });
    assert.equal(d.status, 200, d.text);
    const k = await app.request('PUT', `/v1/tenants/${tenant.id}/dkim`, {
      ...op,
      body: { domain: 'example.com', selector: 'ses1' },
    });
    assert.equal(k.status, 200, k.text);
    published.set(k.json.dnsRecord.name, k.json.dnsRecord.value);
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
    const signed = dkimSign(newsletter('control', new Date()), key);
    assert.deepEqual(await dkimResult(signed), ['pass'], 'passes before transit');
    const afterSes = sesTransit(signed, 'x', 'eu-west-1', new Date(Date.now() + 5000));
    const [result] = await dkimResult(afterSes);
    assert.match(result, /^fail/);
  });
}); // prettier-ignore
