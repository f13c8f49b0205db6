/**
 * The demo's upstream: an SMTP server on a loopback port that accepts every message and
 * keeps it in memory, standing in for the email platform's outbound server.
 */
import { SMTPServer } from 'smtp-server';

export interface ReceivedMessage {
  envelope: { from: string; to: string[] };
  raw: Buffer;
}

export interface DemoSink {
  port: number;
  received: ReceivedMessage[];
  close(): Promise<void>;
}

export async function startDemoSink(): Promise<DemoSink> {
  const received: ReceivedMessage[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', done);
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        received.push({
          envelope: {
            from: from ? from.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          raw: Buffer.concat(chunks),
        });
        done();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined); // a dropped client connection is not the demo's failure
  const { port } = server.server.address() as { port: number };
  return {
    port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
