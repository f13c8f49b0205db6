/**
 * SMTP submission, the intake side: authentication, the size limit, refusals of messages
 * that cannot be signed, a client that leaves mid-DATA, and what 250 and 451 promise.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTransport } from 'nodemailer';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import {
  eventually,
  op,
  queuedId,
  setupTenant,
  submit,
  submitter,
  type RelayTenant,
} from '../support/relay';
import { fromProblemInputs, malformedInputs } from '../fixtures/newsletters';

let app: TestApp;
let sink: SmtpSink;
let tenant: RelayTenant;

before(async () => {
  sink = await startSink();
  app = await startApp({ MAX_MESSAGE_BYTES: '20000' });
  tenant = await setupTenant(app, sink.port);
});
after(async () => {
  await app?.close();
  await sink?.stop();
});

/** A small signable message from news@example.com (covered by the tenant's certificate). */
function note(subject: string): Buffer {
  return Buffer.from(
    'From: "Example News" <news@example.com>\r\nTo: reader@example.net\r\n' +
      `Subject: ${subject}\r\nDate: Tue, 03 Sep 2024 09:30:00 +0200\r\n` +
      `Message-ID: <${randomUUID()}@news.example.com>\r\nMIME-Version: 1.0\r\n` +
      'Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n' +
      'Hello,\r\n\r\nthis is a short note about the intake.\r\n',
  );
}

/** `note(subject)` padded with body lines to exactly `size` bytes. */
function noteOfSize(subject: string, size: number): Buffer {
  const head = note(subject);
  const missing = size - head.length;
  let lines = Math.floor(missing / 78);
  const rest = missing - lines * 78;
  let tail = rest >= 2 ? `${'y'.repeat(rest - 2)}\r\n` : '';
  if (rest === 1) {
    lines -= 1;
    tail = `${'y'.repeat(77)}\r\n`;
  }
  const raw = Buffer.concat([head, Buffer.from(`${'x'.repeat(76)}\r\n`.repeat(lines) + tail)]);
  assert.equal(raw.length, size);
  return raw;
}

/** A one-shot (unpooled) client, so a refusal never poisons a shared connection. */
function client(auth?: { user: string; pass: string }) {
  return createTransport({ host: '127.0.0.1', port: app.smtpPort!, ignoreTLS: true, auth });
}
const login = (t: RelayTenant = tenant) => ({ user: t.username, pass: t.password });

/** What nodemailer reports of a refusal: the reply, its code and the command it answered. */
type Refusal = { responseCode: number; response: string; command?: string };

async function refusal(p: Promise<unknown>): Promise<Refusal> {
  const e = await p.then(
    () => assert.fail('the relay accepted what it should have refused'),
    (err: Partial<Refusal>) => err,
  );
  assert.ok(e.responseCode, `no SMTP reply in the error: ${JSON.stringify(e)}`);
  return e as Refusal;
}

const rowCount = async (): Promise<number> =>
  (await app.db.session.query<{ n: number }>('SELECT count(*)::int AS n FROM messages'))[0].n;

const rowsWithSubject = async (subject: string): Promise<number> =>
  (
    await app.db.session.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM messages WHERE subject = $1',
      [subject],
    )
  )[0].n;

/** A raw SMTP dialogue: one command line (or raw bytes) in, one complete reply out. */
class RawSmtp {
  private buffered = '';
  private readonly replies: string[] = [];
  private readonly waiting: { resolve: (r: string) => void; reject: (e: Error) => void }[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffered += d.toString('latin1');
      for (let m; (m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\n/.exec(this.buffered));) {
        this.buffered = this.buffered.slice(m[0].length);
        const w = this.waiting.shift();
        if (w) w.resolve(m[0]);
        else this.replies.push(m[0]);
      }
    });
    socket.on('error', () => undefined); // reported through 'close' to whoever waits
    socket.on('close', () => {
      for (const w of this.waiting.splice(0))
        w.reject(new Error('the relay closed the connection'));
    });
  }

  static async open(port: number): Promise<RawSmtp> {
    const socket = connect(port, '127.0.0.1');
    const session = new RawSmtp(socket);
    assert.match(await session.reply(), /^220 /);
    return session;
  }

  reply(): Promise<string> {
    const r = this.replies.shift();
    if (r !== undefined) return Promise.resolve(r);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  send(data: string | Buffer): Promise<string> {
    this.socket.write(typeof data === 'string' ? `${data}\r\n` : data);
    return this.reply();
  }

  /** EHLO and AUTH PLAIN as the tenant, then MAIL FROM; resolves to its reply. */
  async mailFrom(t: RelayTenant, parameters = ''): Promise<string> {
    assert.match(await this.send('EHLO client.example.net'), /^250[ -]/);
    const plain = Buffer.from(`\0${t.username}\0${t.password}`).toString('base64');
    assert.match(await this.send(`AUTH PLAIN ${plain}`), /^235 /);
    return this.send(`MAIL FROM:<bounces@example.com>${parameters}`);
  }

  /** Everything up to the 354 that invites the message content. */
  async openData(t: RelayTenant): Promise<void> {
    assert.match(await this.mailFrom(t), /^250 /);
    assert.match(await this.send('RCPT TO:<reader@example.net>'), /^250 /);
    assert.match(await this.send('DATA'), /^354 /);
  }
}

/** The message as DATA content: dot-stuffed, ending in CRLF.CRLF. */
const dataBlock = (raw: Buffer): Buffer =>
  Buffer.from(raw.toString('latin1').replace(/^\./gm, '..') + '.\r\n', 'latin1');

describe('SMTP submission: authentication', () => {
  test('MAIL FROM without AUTH is refused with 530', async () => {
    const e = await refusal(submit(client(), note('no auth')));
    assert.equal(e.responseCode, 530, e.response);
    assert.equal(e.command, 'MAIL FROM');
  });

  test('a wrong password is refused with 535', async () => {
    const wrong = { user: tenant.username, pass: tenant.password.slice(0, -2) + 'xx' };
    const e = await refusal(client(wrong).verify());
    assert.equal(e.responseCode, 535, e.response);
    assert.equal(
      (await refusal(client({ user: 'srs_nobody', pass: 'x' }).verify())).responseCode,
      535,
    );
  });

  test('a credential works until it is revoked, then AUTH gets 535', async () => {
    const path = `/v1/tenants/${tenant.id}/smtp-credentials`;
    const created = await app.request('POST', path, { ...op, body: { label: 'to revoke' } });
    assert.equal(created.status, 201, created.text);
    const auth = { user: created.json.username, pass: created.json.password };
    assert.equal(await client(auth).verify(), true);
    assert.equal((await app.request('DELETE', `${path}/${created.json.id}`, op)).status, 204);
    const e = await refusal(client(auth).verify());
    assert.equal(e.responseCode, 535, e.response);
  });
});

describe('SMTP submission: size limit', () => {
  test('EHLO announces SIZE 20000 and, without a TLS certificate, no STARTTLS', async () => {
    const s = await RawSmtp.open(app.smtpPort!);
    const ehlo = await s.send('EHLO client.example.net');
    s.socket.destroy();
    assert.match(ehlo, /^250[ -]SIZE 20000\r$/m);
    assert.doesNotMatch(ehlo, /STARTTLS/);
    assert.match(ehlo, /^250[ -]AUTH PLAIN LOGIN\r$/m);
  });

  for (const [size, outcome, expected] of [
    [20000, 'is accepted', /^250 2\.6\.0 queued as /],
    // Like every refusal, this one carries its stable code (README, "Error codes").
    [20001, 'gets 552 5.3.4 [too_large]', /^552 5\.3\.4 \[too_large\] /],
  ] as const) {
    test(`a message of exactly ${size} bytes (the limit is 20000) ${outcome}`, async () => {
      const subject = `exactly ${size} bytes ${randomUUID()}`;
      const s = await RawSmtp.open(app.smtpPort!);
      await s.openData(tenant);
      const reply = await s.send(dataBlock(noteOfSize(subject, size)));
      s.socket.destroy();
      assert.match(reply, expected);
      const rows = await app.db.session.query<{ size: number }>(
        'SELECT size FROM messages WHERE subject = $1',
        [subject],
      );
      assert.deepEqual(rows, size === 20000 ? [{ size }] : []);
    });
  }

  test('a declared SIZE over the limit is refused with 552 at MAIL FROM', async () => {
    const s = await RawSmtp.open(app.smtpPort!);
    const reply = await s.mailFrom(tenant, ' SIZE=20001');
    s.socket.destroy();
    assert.match(reply, /^552 /);
  });
});

describe('SMTP submission: messages that cannot be signed are refused with 550', () => {
  const fixtures = [...malformedInputs, ...fromProblemInputs];
  const input = (name: string) => fixtures.find((x) => x.name === name)!.raw;
  const cases: [string, Buffer, string][] = [
    ['no header block', input('no-header-body-separator'), 'malformed_message'],
    ['8-bit body, not UTF-8, no charset', input('no-mime-latin1-body'), 'malformed_message'],
    ['no From', input('no-from-header'), 'no_from'],
    ['two mailboxes in From', input('from-two-addresses'), 'multiple_from'],
    ['two From fields', input('from-two-header-fields'), 'multiple_from'],
    ['From not covered by the certificate', input('from-other-address'), 'from_mismatch'],
  ];
  for (const [what, raw, code] of cases) {
    test(`${what}: 550 [${code}], no row`, async () => {
      const before = await rowCount();
      const e = await refusal(submit(client(login()), raw));
      assert.equal(e.responseCode, 550, e.response);
      assert.match(e.response, new RegExp(`^550 5\\.7\\.1 \\[${code}\\] `));
      assert.equal(await rowCount(), before);
    });
  }
});

describe('SMTP submission: acceptance', () => {
  test('250 names the message id, and its row is committed when the reply arrives', async () => {
    const reply = await submit(client(login()), note('committed before 250'));
    const id = queuedId(reply);
    const rows = await app.db.session.query<{ state: string; subject: string }>(
      'SELECT state, subject FROM messages WHERE id = $1',
      [id],
    );
    assert.equal(rows.length, 1, `no row for ${id} when 250 arrived`);
    assert.equal(rows[0].subject, 'committed before 250');
    assert.ok(['queued', 'retrying', 'delivered'].includes(rows[0].state), rows[0].state);
  });

  test('a connection dropped mid-DATA stores nothing; a concurrent one is delivered', async () => {
    const hanging = `sent while another client hangs ${randomUUID()}`;
    const later = `sent after the drop ${randomUUID()}`;
    const halfSubject = `dropped mid-DATA ${randomUUID()}`;
    const half = note(halfSubject).subarray(0, 200);
    assert.ok(half.includes(halfSubject), 'the half sent carries the subject');

    const dropped = await RawSmtp.open(app.smtpPort!);
    await dropped.openData(tenant);
    dropped.socket.write(half);

    const pooled = submitter(app.smtpPort!, tenant, 1);
    const whole = queuedId(await submit(pooled, note(hanging)));
    dropped.socket.destroy();
    // The relay keeps serving after the drop, and the concurrent message reaches the sink.
    assert.match(await submit(pooled, note(later)), /^250 /);
    pooled.close();
    await eventually(async () => {
      const atSink = sink.messages.map((m) => /^Subject: (.*?)\r?$/m.exec(m.raw.toString())?.[1]);
      return atSink.includes(hanging) && atSink.includes(later) ? true : undefined;
    });
    await eventually(async () => {
      const r = await app.request('GET', `/v1/tenants/${tenant.id}/messages/${whole}`, op);
      return r.json?.state === 'delivered' ? true : undefined;
    });
    // The drop was handled long before two messages went through and were delivered.
    assert.equal(await rowsWithSubject(halfSubject), 0);
  });
});

describe('SMTP submission: temporary failures', () => {
  test('when the message cannot be stored the reply is 451 4.3.0, and a retry later works', async () => {
    const subject = `stored nowhere ${randomUUID()}`;
    await app.db.session.query('ALTER TABLE messages RENAME TO messages_away');
    let e: Refusal;
    try {
      e = await refusal(submit(client(login()), note(subject)));
    } finally {
      await app.db.session.query('ALTER TABLE messages_away RENAME TO messages');
    }
    assert.equal(e.responseCode, 451, e.response);
    assert.match(e.response, /^451 4\.3\.0 \[internal_error\] /);
    assert.equal(await rowsWithSubject(subject), 0);
    const again = queuedId(await submit(client(login()), note(subject)));
    const rows = await app.db.session.query<{ id: string }>(
      'SELECT id FROM messages WHERE subject = $1',
      [subject],
    );
    assert.deepEqual(
      rows.map((r) => r.id),
      [again],
    );
  });

  test('when credentials cannot be checked AUTH gets 454 4.7.0, not 535', async () => {
    await app.db.session.query('ALTER TABLE smtp_credentials RENAME TO smtp_credentials_away');
    let e: Refusal;
    try {
      e = await refusal(client(login()).verify());
    } finally {
      await app.db.session.query('ALTER TABLE smtp_credentials_away RENAME TO smtp_credentials');
    }
    assert.equal(e.responseCode, 454, e.response);
    assert.match(e.response, /^454 4\.7\.0 /);
    assert.equal(await client(login()).verify(), true);
  });
});
