/**
 * Transit checks end to end with real parts: the relay on PostgreSQL and Redis, an SMTP
 * upstream on loopback that delivers into a real Dovecot IMAP server, and the same upstream
 * made to break messages as providers do (a footer appended, quoted-printable lines
 * re-wrapped). A clean path passes; a breaking one fails with an explanation, and the
 * failure becomes a transit.check_failed event.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { eventually, op, setupTenant, type RelayTenant } from '../support/relay';
import { startDovecot, type Dovecot } from '../helpers/dovecot';
import { startSink } from '../helpers/smtp-sink';
import {
  appendFooter,
  rewrapQuotedPrintable,
  startImapUpstream,
  type ImapUpstream,
} from '../helpers/imap-upstream';
import { DnsLookupHolder } from '../../src/common/dns-lookup';
import { TransitChecks } from '../../src/transit/transit-checks';
import { stubDns } from '../domains/stub-dns';

const SEED_PASS = 'seed-pass-0123456789';

describe('transit checks through a real IMAP seed mailbox', { timeout: 240_000 }, () => {
  let app: TestApp;
  let dovecot: Dovecot;
  let upstream: ImapUpstream;
  let tenant: RelayTenant;
  const txt: Record<string, string[]> = {};

  before(async () => {
    dovecot = await startDovecot({ seed: SEED_PASS });
    upstream = await startImapUpstream(dovecot, 'seed');
    app = await startApp({
      IMAP_ALLOW_PRIVATE: 'true',
      TRANSIT_CHECK_POLL_SECONDS: '0.2',
      TRANSIT_CHECK_TIMEOUT_SECONDS: '30',
    });
    app.nest.get(DnsLookupHolder).lookup = stubDns({ txt });
    tenant = await setupTenant(app, upstream.port);
    const k = await app.request('PUT', `/v1/tenants/${tenant.id}/dkim`, {
      ...op,
      body: { domain: 'example.com', selector: 'transit' },
    });
    assert.equal(k.status, 200, k.text);
    txt[k.json.dnsRecord.name] = [k.json.dnsRecord.value];
  });

  after(async () => {
    await app?.close();
    await upstream?.stop();
    await dovecot?.stop();
  });

  const seedSettings = (pass = SEED_PASS, schedule = 'off') => ({
    to: 'seed@example.net',
    from: 'news@example.com',
    imap: { host: '127.0.0.1', port: dovecot.port, tls: 'none', user: 'seed', pass },
    schedule,
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function runCheck(tenantId = tenant.id): Promise<any> {
    const started = await app.request('POST', `/v1/tenants/${tenantId}/transit-checks`, op);
    assert.equal(started.status, 202, started.text);
    assert.equal(started.json.state, 'running');
    return eventually(
      async () => {
        const r = await app.request(
          'GET',
          `/v1/tenants/${tenantId}/transit-checks/${started.json.id}`,
          op,
        );
        return r.json.state === 'running' ? undefined : r.json;
      },
      60_000,
      'the check to finish',
    );
  }

  test('settings: the mailbox is tried before saving; the password is sealed and redacted', async () => {
    const bad = await app.request('PUT', `/v1/tenants/${tenant.id}/transit-check`, {
      ...op,
      body: seedSettings('wrong-password'),
    });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.json.error.message, /refused the login/);
    const clear = await app.request('PUT', `/v1/tenants/${tenant.id}/transit-check`, {
      ...op,
      body: { ...seedSettings(), imap: { ...seedSettings().imap, host: 'imap.example.net' } },
    });
    assert.equal(clear.status, 400);
    assert.match(clear.json.error.message, /loopback server only/);
    const ok = await app.request('PUT', `/v1/tenants/${tenant.id}/transit-check`, {
      ...op,
      body: seedSettings(),
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.imap.pass, '[redacted]');
    assert.ok(!ok.text.includes(SEED_PASS));
    const [row] = await app.db.session.query<{ settings: object; sealed_secrets: Buffer }>(
      'SELECT settings, sealed_secrets FROM transit_check_settings WHERE tenant_id = $1',
      [tenant.id],
    );
    assert.ok(!JSON.stringify(row.settings).includes(SEED_PASS));
    assert.ok(!Buffer.from(row.sealed_secrets).includes(SEED_PASS));
    const again = await app.request('PUT', `/v1/tenants/${tenant.id}/transit-check`, {
      ...op,
      body: seedSettings('[redacted]'),
    });
    assert.equal(again.status, 200, 'a redacted password keeps the stored one');
  });

  test('a clean path passes: delivered, arrived, S/MIME and DKIM verify, the signed part unchanged', async () => {
    upstream.transform = (raw) => raw;
    const check = await runCheck();
    console.log(`clean upstream:\n${JSON.stringify(check, null, 2)}`);
    assert.equal(check.state, 'passed', JSON.stringify(check.result.problems));
    const r = check.result;
    assert.equal(r.delivered, true);
    assert.equal(r.arrived, true);
    assert.equal(r.smime.valid, true);
    assert.equal(r.smime.signer, 'news@example.com, info@example.com');
    assert.deepEqual(r.dkim, { result: 'pass', domain: 'example.com' });
    assert.equal(r.changes.signedPart.identical, true);
    assert.deepEqual(r.changes.headers.added, ['received']);
    assert.deepEqual(r.changes.headers.unexpected, []);
    assert.ok(r.timings.totalMs > 0 && r.timings.arrivalMs > 0);
    assert.deepEqual(r.problems, []);
    assert.equal((await dovecot.messages('seed')).length, 0, 'the copy is removed once read');
  });

  test('an upstream that appends a footer fails the check, with the explanation and an event', async () => {
    upstream.transform = appendFooter;
    const check = await runCheck();
    console.log(`footer upstream:\n${JSON.stringify(check.result, null, 2)}`);
    assert.equal(check.state, 'failed');
    const r = check.result;
    assert.equal(r.delivered, true);
    assert.equal(r.arrived, true);
    assert.equal(r.smime.valid, false);
    assert.deepEqual(
      r.smime.errors.map((e: { code: string }) => e.code),
      ['digest_mismatch'],
    );
    assert.equal(r.changes.signedPart.identical, false);
    assert.match(r.changes.signedPart.explanation, /line\(s\) were inserted/);
    assert.deepEqual(
      r.changes.signedPart.parts.map(
        (p: { part: string; change: string }) => `${p.part} ${p.change}`,
      ),
      ['1 changed', '2 unchanged'],
    );
    // DKIM covers the body too (mailauth calls a body-hash mismatch "neutral").
    assert.notEqual(r.dkim.result, 'pass');
    assert.match(r.dkim.comment, /body hash did not verify/);
    assert.ok(r.problems.some((p: string) => /signed part changed in transit/.test(p)));
    const events = await app.db.session.query<{ data: { checkId: string; problems: string[] } }>(
      "SELECT data FROM events WHERE tenant_id = $1 AND type = 'transit.check_failed'",
      [tenant.id],
    );
    assert.ok(events.some((e) => e.data.checkId === check.id && e.data.problems.length > 0));
  });

  test('an upstream that re-wraps quoted-printable lines fails the check as re-wrapped', async () => {
    upstream.transform = rewrapQuotedPrintable;
    const check = await runCheck();
    console.log(
      `re-wrapping upstream:\n${JSON.stringify(check.result.changes.signedPart, null, 2)}`,
    );
    assert.equal(check.state, 'failed');
    assert.match(check.result.changes.signedPart.explanation, /re-wrapped/);
    assert.equal(check.result.smime.valid, false);
  });

  test('a check message the upstream refuses is reported as not delivered', async () => {
    const refusing = await startSink({
      reply: () => ({ code: 550, text: '5.7.1 relaying denied' }),
    });
    try {
      const other = await setupTenant(app, refusing.port);
      const put = await app.request('PUT', `/v1/tenants/${other.id}/transit-check`, {
        ...op,
        body: seedSettings(),
      });
      assert.equal(put.status, 200, put.text);
      const check = await runCheck(other.id);
      assert.equal(check.state, 'failed');
      assert.equal(check.result.delivered, false);
      assert.equal(check.result.arrived, false);
      assert.equal(check.result.deliveryError.code, 'delivery_rejected');
      assert.match(check.result.problems[0], /the check message failed: \[delivery_rejected\]/);
    } finally {
      await refusing.stop();
    }
  });

  test('past checks are listed newest first; another tenant sees none of them', async () => {
    const list = await app.request('GET', `/v1/tenants/${tenant.id}/transit-checks?limit=10`, op);
    assert.equal(list.status, 200);
    assert.ok(list.json.length >= 3);
    const times = list.json.map((c: { startedAt: string }) => c.startedAt);
    assert.deepEqual([...times].sort().reverse(), times);
    const other = await setupTenant(app, upstream.port);
    const key = await app.request('POST', `/v1/tenants/${other.id}/api-keys`, { ...op, body: {} });
    const foreign = await app.request('GET', `/v1/tenants/${tenant.id}/transit-checks`, {
      token: key.json.key,
    });
    assert.equal(foreign.status, 404);
  });

  test('a due schedule starts a check once, even with two rounds at the same time', async () => {
    const put = await app.request('PUT', `/v1/tenants/${tenant.id}/transit-check`, {
      ...op,
      body: seedSettings(SEED_PASS, 'daily'),
    });
    assert.equal(put.status, 200, put.text);
    assert.ok(Date.parse(put.json.nextRunAt) > Date.now() + 23 * 3600_000, 'next run in a day');
    await app.db.session.query(
      "UPDATE transit_check_settings SET next_run_at = now() - interval '1 second' WHERE tenant_id = $1",
      [tenant.id],
    );
    const checks = app.nest.get(TransitChecks);
    await Promise.all([checks.scheduledRound(), checks.scheduledRound()]);
    const scheduled = await app.db.session.query(
      "SELECT id FROM transit_checks WHERE tenant_id = $1 AND trigger = 'schedule'",
      [tenant.id],
    );
    assert.equal(scheduled.length, 1);
    const [next] = await app.db.session.query<{ next_run_at: Date }>(
      'SELECT next_run_at FROM transit_check_settings WHERE tenant_id = $1',
      [tenant.id],
    );
    assert.ok(next.next_run_at.getTime() > Date.now() + 23 * 3600_000);
  });
});
