/**
 * What the reader sees: every signature the engine makes, opened in Thunderbird (the fourth
 * verifier, see helpers/thunderbird.ts), after the delays that happen in real operation:
 * a campaign composed (its Date: written) minutes, hours or days before the relay signs it,
 * a platform clock running ahead, and a cached signature reused hours later. Every message
 * Thunderbird must show as signed is also checked by OpenSSL, gpgsm and NSS cmsutil; the
 * negative controls show that the Thunderbird check can fail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestPki, type TestPki } from './helpers/pki';
import { rfc5322Date, withDate } from './helpers/mail-date';
import { VERIFIERS, verifyWithAll, signWithOpenssl } from './helpers/verifiers';
import { thunderbirdFor, type Thunderbird, type ThunderbirdVerdict } from './helpers/thunderbird';
import { newsletterByName } from './fixtures/newsletters';
import { identityFromP12, replaceOnce } from './support/engine';
import { readMessageCms } from './support/cms';
import { SignatureCache, signMessage, verifyMessage, type SigningIdentity } from '../src';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

async function signingTimeOf(msg: Buffer): Promise<Date | undefined> {
  const { signingTime } = await verifyMessage(msg);
  return signingTime ? new Date(signingTime) : undefined;
}

type Key = 'rsa2048' | 'p256' | 'p384';

interface Case {
  name: string;
  fixture: string;
  key: Key;
  format?: 'detached' | 'opaque';
  rsaPss?: boolean;
  /** Date: relative to the moment of signing (negative: composed earlier). */
  dateOffsetMs: number | null;
}

const CASES: Case[] = [
  { name: 'fresh, RSA detached, UTF-8 Japanese', fixture: 'utf8-8bit-alternative', key: 'rsa2048', dateOffsetMs: -2 * MINUTE },
  { name: 'fresh, RSA opaque, UTF-8 Japanese', fixture: 'utf8-8bit-alternative', key: 'rsa2048', format: 'opaque', dateOffsetMs: -2 * MINUTE },
  { name: 'fresh, ECDSA P-256 detached, ISO-2022-JP', fixture: 'iso-2022-jp', key: 'p256', dateOffsetMs: -2 * MINUTE },
  { name: 'fresh, ECDSA P-256 opaque, ISO-2022-JP', fixture: 'iso-2022-jp', key: 'p256', format: 'opaque', dateOffsetMs: -2 * MINUTE },
  { name: 'fresh, ECDSA P-384 detached, HTML with inline images', fixture: 'related-inline-images', key: 'p384', dateOffsetMs: -2 * MINUTE },
  { name: 'fresh, RSA-PSS detached, Mautic nested', fixture: 'mautic-mixed-related-alternative', key: 'rsa2048', rsaPss: true, dateOffsetMs: -1 * MINUTE },
  { name: 'Date 25 minutes old, RSA detached', fixture: 'listmonk-alternative-qp-crlf', key: 'rsa2048', dateOffsetMs: -25 * MINUTE },
  { name: 'Date 3 hours old, RSA detached, HTML with inline images', fixture: 'related-inline-images', key: 'rsa2048', dateOffsetMs: -3 * HOUR },
  { name: 'Date 3 hours old, ECDSA opaque, ISO-2022-JP', fixture: 'iso-2022-jp', key: 'p256', format: 'opaque', dateOffsetMs: -3 * HOUR },
  { name: 'Date 26 hours old, RSA detached, UTF-8 Japanese', fixture: 'utf8-8bit-alternative', key: 'rsa2048', dateOffsetMs: -26 * HOUR },
  { name: 'Date 5 days old, ECDSA detached, ISO-2022-JP', fixture: 'iso-2022-jp', key: 'p256', dateOffsetMs: -5 * 24 * HOUR },
  { name: 'Date 20 minutes ahead (platform clock fast), RSA detached', fixture: 'listmonk-alternative-qp-crlf', key: 'rsa2048', dateOffsetMs: 20 * MINUTE },
  { name: 'Date 3 hours ahead, ECDSA detached', fixture: 'utf8-8bit-alternative', key: 'p256', dateOffsetMs: 3 * HOUR },
  { name: 'no Date: at all, RSA detached', fixture: 'listmonk-alternative-qp-crlf', key: 'rsa2048', dateOffsetMs: null },
]; // prettier-ignore

let pki: TestPki;
let tb: Thunderbird;
const ids = {} as Record<Key, SigningIdentity>;
const table: string[] = [];

function note(name: string, v: ThunderbirdVerdict, signingTime: string | undefined): void {
  table.push(
    `${v.ok ? 'signed  ' : 'NOT OK  '} ${v.statusName.padEnd(22)} ${(signingTime ? 'signingTime' : 'no signingTime').padEnd(15)} ${name}`,
  );
}

async function assertReaderSeesSigned(name: string, msg: Buffer): Promise<void> {
  const report = await verifyMessage(msg, { trustAnchors: [pki.rootPem] });
  const v = await tb.verdict(msg);
  note(name, v, report.signingTime);
  assert.equal(v.statusName, 'SUCCESS', `Thunderbird: ${JSON.stringify(v)}`);
  assert.equal(v.icon, 'ok', 'the header shows the signed-ok seal');
  assert.equal(v.signer, 'news@example.com');
  assert.ok(report.valid, `verifyMessage: ${JSON.stringify(report.errors)}`);
  const results = await verifyWithAll(msg, pki);
  for (const verifier of VERIFIERS) {
    assert.ok(results[verifier].ok, `${verifier}:\n${results[verifier].output}`);
  }
}

before(async () => {
  pki = await createTestPki();
  for (const k of ['rsa2048', 'p256', 'p384'] as const) ids[k] = identityFromP12(pki, k);
  tb = await thunderbirdFor(pki);
});

after(async () => {
  console.log(`Thunderbird verdicts:\n${table.join('\n')}`);
  await tb?.close();
});

describe('Thunderbird shows every engine signature as valid', { timeout: 300_000 }, () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const now = new Date(Date.now() + MINUTE);
      const raw = newsletterByName(c.fixture).raw;
      const input = withDate(
        raw,
        c.dateOffsetMs === null ? null : new Date(now.getTime() + c.dateOffsetMs),
      );
      const signed = await signMessage(input, ids[c.key], {
        now,
        format: c.format,
        rsaPss: c.rsaPss,
      });
      const st = await signingTimeOf(signed);
      const agrees = c.dateOffsetMs !== null && Math.abs(c.dateOffsetMs) <= 30 * MINUTE;
      assert.equal(
        st?.getTime(),
        agrees ? Math.floor(now.getTime() / 1000) * 1000 : undefined,
        'signingTime is the true signing time exactly when it agrees with Date:',
      );
      assert.match(
        signed.toString('latin1'),
        c.dateOffsetMs === null ? /^(?![\s\S]*^Date:)/m : /^Date: /m,
        'Date: is kept as the platform wrote it',
      );
      await assertReaderSeesSigned(c.name, signed);
    });
  }

  test('a cached signature is reused only while its signingTime agrees with Date:', async () => {
    const cache = new SignatureCache();
    const raw = newsletterByName('utf8-8bit-alternative').raw;
    const t0 = new Date(Date.now() + MINUTE);
    const at = (ms: number): Date => new Date(t0.getTime() + ms);
    const toB = (m: Buffer): Buffer =>
      replaceOnce(m, 'To: "Jane Doe" <jane.doe@example.net>', 'To: "John Roe" <john.roe@example.org>');

    // The first recipient at t0; a second one 10 minutes later reuses that signature.
    const first = await signMessage(withDate(raw, t0), ids.rsa2048, { now: t0, cache });
    const soon = await signMessage(toB(withDate(raw, at(10 * MINUTE))), ids.rsa2048, {
      now: at(10 * MINUTE),
      cache,
    });
    assert.equal(cache.hits, 1, 'reused within the window');
    assert.ok(readMessageCms(first).der.equals(readMessageCms(soon).der));
    // Three hours into a throttled campaign: the cached signingTime would be 3 h from Date:.
    const later = await signMessage(toB(withDate(raw, at(3 * HOUR))), ids.rsa2048, {
      now: at(3 * HOUR),
      cache,
    });
    assert.equal(cache.hits, 2, 'found in the cache…');
    assert.ok(!readMessageCms(first).der.equals(readMessageCms(later).der), '…but signed anew');
    assert.equal((await signingTimeOf(later))?.getTime(), Math.floor(at(3 * HOUR).getTime() / 1000) * 1000);
    // A backlog: Date: written at t0, signed 3 hours later, twice; no signingTime, one signature.
    const late1 = await signMessage(withDate(raw, t0), ids.rsa2048, { now: at(3 * HOUR), cache });
    const late2 = await signMessage(toB(withDate(raw, t0)), ids.rsa2048, { now: at(4 * HOUR), cache });
    assert.ok(readMessageCms(late1).der.equals(readMessageCms(late2).der), 'reused without signingTime');
    for (const [name, msg] of [
      ['cache: first recipient', first],
      ['cache: reused 10 minutes later', soon],
      ['cache: 3 hours later, signed anew', later],
      ['cache: backlog, no signingTime, reused', late2],
    ] as const) {
      await assertReaderSeesSigned(name, msg);
    }
  }); // prettier-ignore
});

describe('negative controls: the Thunderbird check can fail', { timeout: 120_000 }, () => {
  const head = (date: Date): string =>
    'From: News <news@example.com>\r\nTo: reader@example.net\r\n' +
    `Subject: control\r\nDate: ${rfc5322Date(date)}\r\n`;
  const entity = Buffer.from('Content-Type: text/plain; charset=us-ascii\r\n\r\nHello reader.\r\n');

  test('openssl cms -sign (signingTime = now) on a message whose Date: is 3 hours old', async () => {
    const signed = await signWithOpenssl(entity, pki.identities.rsa2048, {
      certfile: pki.chainPath,
    });
    const msg = Buffer.concat([Buffer.from(head(new Date(Date.now() - 3 * HOUR))), signed]);
    const v = await tb.verdict(msg);
    note('control: openssl, Date: 3 hours old', v, 'yes');
    assert.equal(v.statusName, 'VERIFY_TIME_MISMATCH');
    assert.equal(v.ok, false);
    const report = await verifyMessage(msg, { trustAnchors: [pki.rootPem] });
    assert.deepEqual(
      report.errors.map((e) => e.code),
      ['signing_time_mismatch'],
      'verifyMessage reports what Thunderbird reports',
    );
    // The same signature with a fresh Date: is fine for both.
    const fresh = Buffer.concat([Buffer.from(head(new Date())), signed]);
    assert.equal((await tb.verdict(fresh)).statusName, 'SUCCESS');
    assert.ok((await verifyMessage(fresh, { trustAnchors: [pki.rootPem] })).valid);
  });

  test('a body changed after signing is not valid', async () => {
    const now = new Date();
    const msg = Buffer.concat([Buffer.from(head(now)), entity]);
    const signed = await signMessage(msg, ids.rsa2048, { now });
    assert.equal((await tb.verdict(signed)).statusName, 'SUCCESS');
    const tampered = replaceOnce(signed, 'Hello reader.', 'Hello reaper.');
    const v = await tb.verdict(tampered);
    note('control: body changed after signing', v, 'yes');
    assert.equal(v.ok, false);
    assert.notEqual(v.status, 0);
  });

  test('an unsigned message shows no signature', async () => {
    const v = await tb.verdict(Buffer.concat([Buffer.from(head(new Date())), entity]));
    assert.equal(v.status, -1);
    assert.equal(v.ok, false);
  });
});
