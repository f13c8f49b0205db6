import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventually, op, queuedId, relayFixture, submit, submitter } from '../support/relay';
import { newsletter20k } from '../fixtures/newsletters';
import { createTestPki } from '../helpers/pki';
import { verifyWithOpenssl } from '../helpers/openssl';
import { verifyMessage } from '../../src/smime';
import type { SinkMessage } from '../helpers/smtp-sink';
// mailauth 4 ships CommonJS with its own typings.
import { dkimVerify } from 'mailauth/lib/dkim/verify';

// `prefer`: a From the certificate does not cover goes out unsigned instead of failing.
const relay = relayFixture({}, { signingPolicy: 'prefer' });

/** The published TXT records, served by a stub resolver in place of DNS. */
const published = new Map<string, string>();
const resolver = async (name: string, rrtype: string): Promise<string[][]> => {
  const value = rrtype === 'TXT' ? published.get(name.toLowerCase()) : undefined;
  if (value) return [[value]];
  throw Object.assign(new Error(`no ${rrtype} record for ${name}`), { code: 'ENOTFOUND' });
};

async function putDkim(body: object): Promise<{ name: string; value: string }> {
  const r = await relay.app.request('PUT', `/v1/tenants/${relay.tenant.id}/dkim`, {
    ...op,
    body,
  });
  assert.equal(r.status, 200, r.text);
  published.set(r.json.dnsRecord.name, r.json.dnsRecord.value);
  return r.json.dnsRecord;
}

/** The newsletter with another From address. */
const newsletterFrom = (from: string): Buffer =>
  Buffer.from(
    newsletter20k()
      .toString('latin1')
      .replace(/^From: .*$/m, `From: <${from}>\r`),
    'latin1',
  );

/** Send one message through the relay; resolves to what the upstream received. */
async function relayed(raw: Buffer): Promise<SinkMessage> {
  const before = relay.sink.messages.length;
  const client = submitter(relay.app.smtpPort!, relay.tenant, 1);
  try {
    queuedId(await submit(client, raw));
  } finally {
    client.close();
  }
  return eventually(async () => relay.sink.messages[before], 30_000, 'the relayed message');
}

async function dkimResults(raw: Buffer) {
  const result = await dkimVerify(raw, { resolver });
  return result.results.map((r) => ({
    result: r.status.result,
    domain: r.signingDomain,
    comment: r.status.comment,
  }));
}

const headerOf = (raw: Buffer): string => {
  const text = raw.toString('latin1');
  return text.slice(0, text.indexOf('\r\n\r\n'));
};

describe('DKIM on top of S/MIME, through the relay', () => {
  for (const keyType of ['rsa', 'ed25519'] as const) {
    test(`${keyType}: the delivered message passes DKIM and its S/MIME signature still holds`, async () => {
      await putDkim({ domain: 'example.com', selector: `sel-${keyType}`, keyType });
      const got = await relayed(newsletter20k());
      assert.match(got.raw.subarray(0, 20).toString('latin1'), /^DKIM-Signature:/);
      const header = headerOf(got.raw);
      assert.match(header, new RegExp(`s=sel-${keyType};`));
      assert.match(header, new RegExp(`a=${keyType}-sha256;`));
      assert.match(header, /h=from:to:subject:date:message-id:\s*list-unsubscribe:/);
      for (const line of header.split('\r\n').slice(0, 6)) {
        if (/^(DKIM-Signature:| )/.test(line)) assert.ok(line.length <= 78, line);
      }
      assert.deepEqual(await dkimResults(got.raw), [
        { result: 'pass', domain: 'example.com', comment: undefined },
      ]);
      const pki = await createTestPki();
      const openssl = await verifyWithOpenssl(got.raw, pki);
      assert.ok(openssl.ok, openssl.output);
      const report = await verifyMessage(got.raw, { trustAnchors: [pki.rootPem] });
      assert.equal(report.valid, true, JSON.stringify(report));
    });
  }

  test('a changed byte breaks DKIM (the check is not vacuous)', async () => {
    await putDkim({ domain: 'example.com', selector: 'tamper' });
    const got = await relayed(newsletter20k());
    const tampered = Buffer.from(
      got.raw.toString('latin1').replace('Subject: Example News', 'Subject: Example Newz'),
      'latin1',
    );
    const [result] = await dkimResults(tampered);
    assert.equal(result.result, 'fail');
  });

  test('an unsigned `prefer` message from an aligned address is DKIM-signed all the same', async () => {
    await putDkim({ domain: 'example.com', selector: 'plain' });
    const got = await relayed(newsletterFrom('promo@mail.example.com'));
    assert.doesNotMatch(headerOf(got.raw), /application\/pkcs7-signature|multipart\/signed/);
    assert.deepEqual(
      (await dkimResults(got.raw)).map((r) => r.result),
      ['pass'],
    );
  });

  test('a From outside the DKIM domain is sent without DKIM', async () => {
    await putDkim({ domain: 'example.com', selector: 'outside' });
    const got = await relayed(newsletterFrom('news@example.org'));
    assert.doesNotMatch(headerOf(got.raw), /^DKIM-Signature:/im);
    assert.deepEqual(
      (await dkimResults(got.raw)).map((r) => [r.result, r.comment]),
      [['none', 'message not signed']],
    );
  });
});
