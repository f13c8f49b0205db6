/**
 * A loopback stand-in for a provider's SMTP relay (SendGrid, Postmark): STARTTLS with a
 * self-signed certificate, AUTH required and checked the way the provider checks it, and a
 * scripted reply to each message.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SMTPServer } from 'smtp-server';

export interface FakeReceived {
  raw: Buffer;
  from: string;
  to: string[];
}

export interface FakeLogin {
  username: string;
  password: string;
  overTls: boolean;
}

export type FakeReply = (n: number) => { code: number; text: string } | undefined;

export interface ProviderSmtpFakeOptions {
  tls: { key: Buffer; cert: Buffer };
  /** Whether a username and password log in. */
  accepts(username: string, password: string): boolean;
  /** The 535 text for a refused login. */
  refusal: string;
  /** The 250 text for message number n. */
  accepted(n: number): string;
}

export async function startProviderSmtpFake(o: ProviderSmtpFakeOptions) {
  const fake = {
    port: 0,
    received: [] as FakeReceived[],
    logins: [] as FakeLogin[],
    reply: (() => undefined) as FakeReply,
    data: 0,
  };
  const server = new SMTPServer({
    ...o.tls,
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, session, done) {
      const username = auth.username ?? '';
      const password = auth.password ?? '';
      fake.logins.push({ username, password, overTls: session.secure });
      if (o.accepts(username, password)) return done(null, { user: username });
      done(Object.assign(new Error(o.refusal), { responseCode: 535 }));
    },
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const n = fake.data++;
        const r = fake.reply(n);
        if (r) return done(Object.assign(new Error(r.text), { responseCode: r.code }));
        fake.received.push({
          raw: Buffer.concat(chunks),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((a) => a.address),
        });
        done(null, o.accepted(n));
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.port = (server.server.address() as { port: number }).port;
  return { fake, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A throwaway self-signed server certificate for localhost, made with openssl. */
export async function selfSignedCertificate(): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-smtp-tls-'));
  try {
    // prettier-ignore
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '2',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    return {
      key: await readFile(join(dir, 'key.pem')),
      cert: await readFile(join(dir, 'cert.pem')),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
