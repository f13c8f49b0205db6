/**
 * A loopback SMTP server standing in for the upstream: it records what it receives, and a
 * test can script its reply to each message (250, 421, 451, 550 …), or stop it and start it
 * again on the same port.
 */
import { SMTPServer } from 'smtp-server';

export interface SinkMessage {
  envelope: { from: string; to: string[] };
  raw: Buffer;
  at: number;
}

/** The reply to one message: undefined accepts it; otherwise an SMTP code and text. */
export type SinkReply = (raw: Buffer, n: number) => { code: number; text: string } | undefined;

export interface SmtpSink {
  port: number;
  /** Every message accepted with 250. */
  messages: SinkMessage[];
  /** How many DATA commands ended, accepted or not. */
  received: number;
  reply: SinkReply;
  /** Wait this long before answering each message (a slow upstream). */
  delayMs: number;
  /** Resolves when `count` messages have been accepted; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startSink(
  options: { port?: number; reply?: SinkReply; delayMs?: number } = {},
): Promise<SmtpSink> {
  let server: SMTPServer | undefined;
  const waiters: { count: number; resolve: () => void }[] = [];
  const sink: SmtpSink = {
    port: options.port ?? 0,
    messages: [],
    received: 0,
    reply: options.reply ?? (() => undefined),
    delayMs: options.delayMs ?? 0,
    waitFor(count, timeoutMs = 60_000) {
      if (sink.messages.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `sink has ${sink.messages.length} of ${count} messages after ${timeoutMs} ms`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    async start() {
      server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['AUTH', 'STARTTLS'],
        logger: false,
        size: 0,
        onData(stream, session, done) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', async () => {
            if (sink.delayMs) await new Promise((r) => setTimeout(r, sink.delayMs));
            const raw = Buffer.concat(chunks);
            const n = sink.received++;
            const r = sink.reply(raw, n);
            if (r) {
              done(Object.assign(new Error(r.text), { responseCode: r.code }));
              return;
            }
            const mailFrom = session.envelope.mailFrom;
            sink.messages.push({
              envelope: {
                from: mailFrom ? mailFrom.address : '',
                to: session.envelope.rcptTo.map((a) => a.address),
              },
              raw,
              at: Date.now(),
            });
            for (const w of [...waiters]) {
              if (sink.messages.length >= w.count) {
                waiters.splice(waiters.indexOf(w), 1);
                w.resolve();
              }
            }
            done(null, `queued as sink-${n}`);
          });
        },
      });
      // A client that vanishes (a killed worker) resets its connection; that is expected.
      server.on('error', () => undefined);
      await new Promise<void>((resolve) => server!.listen(sink.port, '127.0.0.1', () => resolve()));
      sink.port = (server.server.address() as { port: number }).port;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      // Drop open sessions at once, as a crashed upstream would.
      for (const c of (s as unknown as { connections: Set<{ close(): void }> }).connections ?? [])
        c.close();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  await sink.start();
  return sink;
}
