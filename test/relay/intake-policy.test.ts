/**
 * Which tenant may send what: a tenant's SMTP credentials never borrow another tenant's
 * certificate, and the signing policy decides whether a message without a certificate is
 * refused (`require`) or delivered unsigned (`prefer`).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createTransport } from 'nodemailer';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { eventually, op, queuedId, setupTenant, submit, type RelayTenant } from '../support/relay';
import { createTestPki } from '../helpers/pki';
import { verifyMessage } from '../../src/smime';

let app: TestApp;
/** One upstream per tenant, so whatever reaches a sink came from that tenant. */
const sinks: Record<'certified' | 'uncertified' | 'otherAddress' | 'prefer', SmtpSink> =
  {} as never;
const tenants: Record<keyof typeof sinks, RelayTenant> = {} as never;

before(async () => {
  for (const k of ['certified', 'uncertified', 'otherAddress', 'prefer'] as const) {
    sinks[k] = await startSink();
  }
  app = await startApp();
  // Its rsa2048 certificate covers news@ and info@example.com.
  tenants.certified = await setupTenant(app, sinks.certified.port);
  tenants.uncertified = await setupTenant(app, sinks.uncertified.port, { certificate: false });
  // A certificate, but only for legacy@example.com.
  tenants.otherAddress = await setupTenant(app, sinks.otherAddress.port, {
    identity: 'legacyEmail',
  });
  tenants.prefer = await setupTenant(app, sinks.prefer.port, {
    certificate: false,
    signingPolicy: 'prefer',
  });
});
after(async () => {
  await app?.close();
  for (const s of Object.values(sinks)) await s?.stop();
});

function newsFrom(subject: string, from = 'news@example.com'): Buffer {
  return Buffer.from(
    `From: "Example News" <${from}>\r\nTo: reader@example.net\r\nSubject: ${subject}\r\n` +
      `Date: Tue, 03 Sep 2024 09:30:00 +0200\r\nMessage-ID: <${randomUUID()}@example.com>\r\n` +
      'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n' +
      'Hello,\r\n\r\nthe policy decides what happens to this message.\r\n',
  );
}

const sendAs = (t: RelayTenant, raw: Buffer) =>
  submit(
    createTransport({
      host: '127.0.0.1',
      port: app.smtpPort!,
      ignoreTLS: true,
      auth: { user: t.username, pass: t.password },
    }),
    raw,
  );

async function refusedWith(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => assert.fail('the relay accepted the message'),
    (err: { responseCode?: number; response?: string }) => err,
  );
  assert.equal(e.responseCode, 550, e.response);
  return e.response!;
}

const rowsOf = async (t: RelayTenant): Promise<number> =>
  (
    await app.db.session.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM messages WHERE tenant_id = $1',
      [t.id],
    )
  )[0].n;

const stateOf = (t: RelayTenant, id: string, final: string) =>
  eventually(
    async () => {
      const r = await app.request('GET', `/v1/tenants/${t.id}/messages/${id}`, op);
      return r.json?.state === final ? r.json : undefined;
    },
    30_000,
    `message ${id} to become ${final}`,
  );

describe('isolation: credentials never borrow another tenant’s certificate', () => {
  test('the certificate’s own tenant sends From news@example.com, signed', async () => {
    const id = queuedId(await sendAs(tenants.certified, newsFrom('from the owner')));
    await stateOf(tenants.certified, id, 'delivered');
    const pki = await createTestPki();
    const report = await verifyMessage(sinks.certified.messages[0].raw, {
      trustAnchors: [pki.rootPem],
    });
    assert.equal(report.valid, true, JSON.stringify(report));
  });

  test('a tenant without a certificate is refused 550 [no_certificate] for that address', async () => {
    const reply = await refusedWith(sendAs(tenants.uncertified, newsFrom('borrowing')));
    assert.match(reply, /^550 5\.7\.1 \[no_certificate\] /);
    assert.equal(await rowsOf(tenants.uncertified), 0);
  });

  test('a tenant whose certificate names other addresses is refused 550 [from_mismatch]', async () => {
    const reply = await refusedWith(sendAs(tenants.otherAddress, newsFrom('borrowing too')));
    assert.match(reply, /^550 5\.7\.1 \[from_mismatch\] /);
    assert.equal(await rowsOf(tenants.otherAddress), 0);
  });

  test('nothing reached the upstreams of the refused tenants', async () => {
    // The certified tenant's message went through the same worker and is delivered; a
    // refused message would have had a row (there are none) and reached its own sink.
    await sinks.certified.waitFor(1);
    assert.equal(sinks.uncertified.received, 0);
    assert.equal(sinks.otherAddress.received, 0);
  });
});

describe("outer header fields at intake (the engine's rules, before anything is spooled)", () => {
  const latin1 = (raw: Buffer, from: string, to: string) =>
    Buffer.from(raw.toString('latin1').replace(from, to), 'latin1');
  test('an internationalised address or a NUL in an outer field is refused with its code', async () => {
    const before = await rowsOf(tenants.certified);
    const idn = latin1(
      newsFrom('idn'),
      'To: reader@example.net',
      `To: ${Buffer.from('josé@example.net', 'utf8').toString('latin1')}`,
    );
    assert.match(
      await refusedWith(sendAs(tenants.certified, idn)),
      /^550 5\.7\.1 \[international_address\] .*jos\u00e9@example\.net/,
    );
    const nul = latin1(newsFrom('nul'), 'MIME-Version: 1.0', 'MIME-Version: 1\u00000');
    assert.match(
      await refusedWith(sendAs(tenants.certified, nul)),
      /^550 5\.7\.1 \[malformed_message\] /,
    );
    assert.equal(await rowsOf(tenants.certified), before, 'nothing was spooled');
  });

  test('an A-label domain is plain ASCII and goes through, signed', async () => {
    const raw = latin1(newsFrom('a-label'), 'To: reader@example.net', 'To: reader@xn--r8jz45g.jp');
    const id = queuedId(await sendAs(tenants.certified, raw));
    await stateOf(tenants.certified, id, 'delivered');
  });
});

describe('signing policy', () => {
  test('prefer: without a certificate the message is delivered unsigned and unchanged', async () => {
    const raw = newsFrom('unsigned but delivered');
    const id = queuedId(await sendAs(tenants.prefer, raw));
    const m = await stateOf(tenants.prefer, id, 'sent_unsigned');
    assert.equal(m.attempts, 1);
    await sinks.prefer.waitFor(1);
    const got = sinks.prefer.messages[0].raw;
    assert.doesNotMatch(got.toString(), /multipart\/signed|application\/(x-)?pkcs7/i);
    assert.equal(got.toString('latin1'), raw.toString('latin1'));
    const events = await app.db.session.query<{ type: string; message_id: string }>(
      'SELECT type, message_id FROM events WHERE tenant_id = $1',
      [tenants.prefer.id],
    );
    assert.deepEqual(events, [{ type: 'message.sent_unsigned', message_id: id }]);
  });

  test('prefer still refuses what is not a single-From message', async () => {
    const twoFrom = newsFrom('two senders', 'news@example.com>, <info@example.com');
    const reply = await refusedWith(sendAs(tenants.prefer, twoFrom));
    assert.match(reply, /^550 5\.7\.1 \[multiple_from\] /);
  });

  test('require: without a certificate the same message is refused with 550', async () => {
    const before = await rowsOf(tenants.uncertified);
    const reply = await refusedWith(
      sendAs(tenants.uncertified, newsFrom('unsigned but delivered')),
    );
    assert.match(reply, /\[no_certificate\]/);
    assert.equal(await rowsOf(tenants.uncertified), before);
    const events = await app.db.session.query(
      "SELECT 1 FROM events WHERE tenant_id = $1 AND type = 'message.sent_unsigned'",
      [tenants.uncertified.id],
    );
    assert.equal(events.length, 0);
  });
});

describe('what Intake reads of a tenant is reused briefly, but never past a change', () => {
  test('a policy change and a removed certificate count from the very next message', async () => {
    const sink = await startSink();
    const t = await setupTenant(app, sink.port);
    try {
      // Accepted twice in a row: the second within the reuse period of the first's read.
      queuedId(await sendAs(t, newsFrom('first')));
      queuedId(await sendAs(t, newsFrom('second')));
      const certs = await app.request('GET', `/v1/tenants/${t.id}/certificates`, op);
      for (const c of certs.json as { id: string }[]) {
        const r = await app.request('DELETE', `/v1/tenants/${t.id}/certificates/${c.id}`, op);
        assert.ok(r.status < 300, r.text);
      }
      assert.match(await refusedWith(sendAs(t, newsFrom('third'))), /\[no_certificate\]/);
      const p = await app.request('PATCH', `/v1/tenants/${t.id}`, {
        ...op,
        body: { signingPolicy: 'prefer' },
      });
      assert.equal(p.status, 200, p.text);
      queuedId(await sendAs(t, newsFrom('fourth, unsigned')));
    } finally {
      await sink.stop();
    }
  });
});
