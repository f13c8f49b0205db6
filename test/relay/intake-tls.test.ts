/**
 * SMTP submission over TLS: STARTTLS on the submission port and implicit TLS on the SMTPS
 * port, with a self-signed server certificate made for this run. (That EHLO offers no
 * STARTTLS without a certificate is checked in intake-smtp.test.ts, whose app has none.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { createTransport } from 'nodemailer';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { eventually, setupTenant, submit, type RelayTenant } from '../support/relay';
import { SmtpLifecycle } from '../../plugins/smtp/smtp.module';
import { isLoopback } from '../../plugins/smtp/submission-server';

let dir: string;
let serverCertPem: Buffer;
let app: TestApp;
let smtpsPort: number;
let sink: SmtpSink;
let tenant: RelayTenant;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'intake-tls-'));
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  // prettier-ignore
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '2',
    '-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', cert,
  ]);
  serverCertPem = await readFile(cert);
  sink = await startSink();
  app = await startApp({ SMTP_TLS_CERT: cert, SMTP_TLS_KEY: key, SMTPS_PORT: '0' });
  smtpsPort = app.nest.get(SmtpLifecycle).server!.ports.smtps!;
  assert.ok(smtpsPort > 0, 'the SMTPS listener is up');
  tenant = await setupTenant(app, sink.port);
});
after(async () => {
  await app?.close();
  await sink?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Trust exactly the certificate made above, so a handshake proves the relay presented it. */
const trustOurCertificate = () => ({ ca: [serverCertPem], servername: 'localhost' });

const messageFor = (subject: string) =>
  Buffer.from(
    'From: "Example News" <news@example.com>\r\nTo: reader@example.net\r\n' +
      `Subject: ${subject}\r\nDate: Tue, 03 Sep 2024 09:30:00 +0200\r\n` +
      'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n' +
      'Hello over TLS.\r\n',
  );

/** Read the greeting, send EHLO and return its complete (multi-line) reply. */
function ehloOver(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    let greeted = false;
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (!greeted && /^220 .*\r\n/.test(text)) {
        greeted = true;
        text = '';
        socket.write('EHLO client.example.net\r\n');
      } else if (greeted && /(^|\n)250 [^\n]*\r\n$/.test(text)) {
        socket.destroy();
        resolve(text);
      }
    });
  });
}

/** Waits until the sink has received a message with this subject. */
const deliveredWithSubject = (subject: string) =>
  eventually(
    async () =>
      sink.messages.some((m) => /^Subject: (.*?)\r?$/m.exec(m.raw.toString())?.[1] === subject)
        ? true
        : undefined,
    30_000,
    `delivery of "${subject}"`,
  );

describe('SMTP submission over TLS', () => {
  test('EHLO on the submission port advertises STARTTLS', async () => {
    const ehlo = await ehloOver(connect(app.smtpPort!, '127.0.0.1'));
    assert.match(ehlo, /^250[ -]STARTTLS\r$/m);
  });

  test('STARTTLS: a client that requires TLS submits, and the message is delivered', async () => {
    const client = createTransport({
      host: '127.0.0.1',
      port: app.smtpPort!,
      secure: false,
      requireTLS: true,
      tls: trustOurCertificate(),
      auth: { user: tenant.username, pass: tenant.password },
    });
    const reply = await submit(client, messageFor('over STARTTLS'));
    client.close();
    assert.match(reply, /^250 2\.6\.0 queued as /);
    await deliveredWithSubject('over STARTTLS');
  });

  test('the same client also works with rejectUnauthorized off (a typical platform setting)', async () => {
    const client = createTransport({
      host: '127.0.0.1',
      port: app.smtpPort!,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: tenant.username, pass: tenant.password },
    });
    assert.match(await submit(client, messageFor('lenient client')), /^250 /);
    client.close();
  });

  test('implicit TLS on the SMTPS port: greeting over TLS, no STARTTLS offered', async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: smtpsPort, ...trustOurCertificate() });
    const ehlo = await ehloOver(socket);
    assert.match(ehlo, /^250[ -]AUTH PLAIN LOGIN\r$/m);
    assert.doesNotMatch(ehlo, /STARTTLS/);
  });

  test('implicit TLS on the SMTPS port: a message is accepted and delivered', async () => {
    const client = createTransport({
      host: '127.0.0.1',
      port: smtpsPort,
      secure: true,
      tls: trustOurCertificate(),
      auth: { user: tenant.username, pass: tenant.password },
    });
    const reply = await submit(client, messageFor('over implicit TLS'));
    client.close();
    assert.match(reply, /^250 2\.6\.0 queued as /);
    await deliveredWithSubject('over implicit TLS');
  });
});

// AUTH in clear from a non-loopback address is refused with 538 unless
// SMTP_ALLOW_INSECURE_AUTH is set; tests only reach the relay over loopback, so that path
// cannot be exercised end to end here and the address check is tested on its own.
describe('isLoopback', () => {
  test('loopback addresses, IPv4-mapped included', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.1']) {
      assert.equal(isLoopback(a), true, a);
    }
  });

  test('other addresses, and none at all', () => {
    for (const a of ['10.0.0.1', '192.168.1.1', '::ffff:10.0.0.1', '2001:db8::1', '0.0.0.0']) {
      assert.equal(isLoopback(a), false, a);
    }
    assert.equal(isLoopback(undefined), false);
    assert.equal(isLoopback('localhost'), false);
  });
});
