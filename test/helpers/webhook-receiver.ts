/**
 * A loopback HTTP server standing in for a webhook subscriber: it records every request
 * and answers with a scripted status.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface ReceivedCall {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  calls: ReceivedCall[];
  /** The status for call number `n` (0-based); default 200. */
  status: (n: number, body: string) => number;
  /** How long to wait before answering call number `n`, in ms; default 0. */
  delay: (n: number) => number;
  /** Calls whose JSON body has this `type`. */
  ofType(type: string): ReceivedCall[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const receiver = {
    url: '',
    calls: [] as ReceivedCall[],
    status: () => 200,
    delay: () => 0,
    ofType(type: string) {
      return receiver.calls.filter((c) => JSON.parse(c.body).type === type);
    },
  } as unknown as WebhookReceiver & { server: Server };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const n = receiver.calls.length;
      receiver.calls.push({ headers: req.headers, body, at: Date.now() });
      const answer = (): void => {
        res.writeHead(receiver.status(n, body), { 'content-type': 'text/plain' });
        res.end('thanks');
      };
      const wait = receiver.delay(n);
      if (wait > 0) setTimeout(answer, wait);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  receiver.close = () => new Promise((resolve) => server.close(() => resolve()));
  return receiver;
}
