/**
 * The reader's verdict on what the relay delivers, through the whole relay (SMTP intake,
 * spool, queue, worker, upstream): a newsletter composed hours before it is signed, deferred
 * by the upstream and retried, opens in Thunderbird as signed; so does a fresh one, whose
 * signature keeps its signingTime. Every delivered copy is also checked by the three
 * independent verifiers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { createTestPki, type TestPki } from '../helpers/pki';
import { rfc5322Date } from '../helpers/mail-date';
import { VERIFIERS, verifyWithAll } from '../helpers/verifiers';
import { thunderbirdFor, type Thunderbird } from '../helpers/thunderbird';
import {
  eventually,
  op,
  QUICK_RETRIES,
  queuedId,
  setupTenant,
  submit,
  submitter,
  type RelayTenant,
} from '../support/relay';
import { verifyMessage } from '../../src';

const HOUR = 3_600_000;

function newsletter(marker: string, date: Date): Buffer {
  return Buffer.from(
    [
      'From: Example News <news@example.com>',
      'To: reader@example.net',
      `Subject: Weekly news ${marker}`,
      `Date: ${rfc5322Date(date)}`,
      `Message-ID: <${marker}@news.example.com>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      `今週のお知らせ (${marker}): this week's news.`,
      '',
    ].join('\r\n'),
  );
}

const markerOf = (raw: Buffer): string | undefined =>
  /Subject: Weekly news (\S+)/.exec(raw.toString('latin1'))?.[1];

describe('what the relay delivers, as Thunderbird shows it', { timeout: 180_000 }, () => {
  let app: TestApp;
  let sink: SmtpSink;
  let tenant: RelayTenant;
  let pki: TestPki;
  let tb: Thunderbird;
  const attempts = new Map<string, number>();

  before(async () => {
    pki = await createTestPki();
    [tb, app] = await Promise.all([thunderbirdFor(pki), startApp(QUICK_RETRIES)]);
    sink = await startSink({
      // The first attempt of every "retried-*" message is deferred, as a busy upstream does.
      reply: (raw) => {
        const marker = markerOf(raw) ?? '';
        const n = (attempts.get(marker) ?? 0) + 1;
        attempts.set(marker, n);
        return marker.startsWith('retried') && n === 1
          ? { code: 451, text: '4.3.0 busy, try later' }
          : undefined;
      },
    });
    tenant = await setupTenant(app, sink.port);
  });

  after(async () => {
    await sink?.stop();
    await app?.close();
    await tb?.close();
  });

  async function deliver(marker: string, date: Date): Promise<Buffer> {
    const client = submitter(app.smtpPort!, tenant, 1);
    try {
      const id = queuedId(await submit(client, newsletter(marker, date)));
      await eventually(
        async () => {
          const r = await app.request('GET', `/v1/tenants/${tenant.id}/messages/${id}`, op);
          return r.json.state === 'delivered' ? true : undefined;
        },
        30_000,
        `${marker} delivered`,
      );
    } finally {
      client.close();
    }
    const copy = sink.messages.find((m) => markerOf(m.raw) === marker);
    assert.ok(copy, `${marker} reached the upstream`);
    return copy.raw;
  }

  async function assertShownAsSigned(msg: Buffer): Promise<void> {
    const v = await tb.verdict(msg);
    assert.equal(v.statusName, 'SUCCESS', JSON.stringify(v));
    assert.equal(v.ok, true);
    const results = await verifyWithAll(msg, pki);
    for (const verifier of VERIFIERS) {
      assert.ok(results[verifier].ok, `${verifier}:\n${results[verifier].output}`);
    }
  }

  test('composed 3 hours before signing, deferred once and retried: signed, no signingTime', async () => {
    const msg = await deliver('retried-old', new Date(Date.now() - 3 * HOUR));
    assert.equal(attempts.get('retried-old'), 2, 'the upstream deferred it once');
    const report = await verifyMessage(msg, { trustAnchors: [pki.rootPem] });
    assert.ok(report.valid, JSON.stringify(report.errors));
    assert.equal(report.signingTime, undefined);
    await assertShownAsSigned(msg);
  });

  test('composed a minute ago, deferred once and retried: signed, with signingTime', async () => {
    const msg = await deliver('retried-fresh', new Date(Date.now() - 60_000));
    assert.equal(attempts.get('retried-fresh'), 2);
    const report = await verifyMessage(msg, { trustAnchors: [pki.rootPem] });
    assert.ok(report.valid, JSON.stringify(report.errors));
    assert.ok(report.signingTime, 'a signing time that agrees with Date: is kept');
    await assertShownAsSigned(msg);
  });

  test('a Date: 26 hours old from a backlog: signed', async () => {
    await assertShownAsSigned(await deliver('backlog', new Date(Date.now() - 26 * HOUR)));
  });
});
