/**
 * A loopback SMTP upstream that delivers what it accepts into a real IMAP mailbox (Dovecot),
 * as a provider and the recipient's server together would, adding a Received field. A
 * `transform` makes it a breaking upstream: one that changes the message on the way, as
 * real providers do (re-wrapped lines, appended footers).
 */
import { SMTPServer } from 'smtp-server';
import type { Dovecot } from './dovecot';

export interface ImapUpstream {
  port: number;
  /** Changes applied to each message before it is delivered; settable between tests. */
  transform: (raw: Buffer) => Buffer;
  stop(): Promise<void>;
}

export async function startImapUpstream(dovecot: Dovecot, user: string): Promise<ImapUpstream> {
  const upstream: ImapUpstream = { port: 0, transform: (raw) => raw, stop: async () => undefined };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const received = Buffer.from(
          `Received: from relay (127.0.0.1) by upstream.test with ESMTP; ${new Date().toUTCString()}\r\n`,
        );
        const raw = Buffer.concat([received, upstream.transform(Buffer.concat(chunks))]);
        dovecot.deliver(user, raw).then(
          () => done(null, 'OK delivered'),
          (e: Error) => done(Object.assign(new Error(e.message), { responseCode: 451 })),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = (server.server.address() as { port: number }).port;
  upstream.stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return upstream;
}

/** A footer added at the end of the first text part, as list servers and ESPs do. */
export function appendFooter(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  const m = /boundary="(check-[^"]+)"/.exec(text);
  if (!m) return raw;
  const delimiter = `\r\n--${m[1]}\r\n`;
  const second = text.indexOf(delimiter, text.indexOf(delimiter) + 1);
  if (second < 0) return raw;
  const footer = '\r\n-- \r\nSent with ExampleESP. Unsubscribe: https://esp.example/u/1';
  return Buffer.from(text.slice(0, second) + footer + text.slice(second), 'latin1');
}

/** Quoted-printable lines re-wrapped at 60 columns, as a provider re-encoding them does. */
export function rewrapQuotedPrintable(raw: Buffer): Buffer {
  const lines = raw.toString('latin1').split('\r\n');
  const out: string[] = [];
  let body = false;
  for (const line of lines) {
    if (!body) {
      body = line === '';
      out.push(line);
      continue;
    }
    if (line.length <= 61 || !/=[0-9A-F]{2}|=$/.test(line)) {
      out.push(line);
      continue;
    }
    let rest = line;
    while (rest.length > 60) {
      let cut = 59;
      // never split an =XX escape
      while (rest[cut - 1] === '=' || rest[cut - 2] === '=') cut--;
      out.push(`${rest.slice(0, cut)}=`);
      rest = rest.slice(cut);
    }
    out.push(rest);
  }
  return Buffer.from(out.join('\r\n'), 'latin1');
}
