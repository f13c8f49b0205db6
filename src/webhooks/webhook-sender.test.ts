import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { Lookup } from '../egress/egress-guard';
import { classifyWebhookResponse, sendWebhook, type WebhookResponse } from './webhook-sender';

/** A loopback stand-in for a webhook receiver that counts connections and records requests. */
interface Receiver {
  url: string;
  port: number;
  connections: number;
  requests: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

const receivers: Receiver[] = [];
after(() => Promise.all(receivers.map((r) => r.close())));

async function startReceiver(
  handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) =>
    res.writeHead(204).end(),
): Promise<Receiver> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.requests.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      handle(req, res);
    });
  });
  server.on('connection', () => receiver.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hooks/relay`,
    port,
    connections: 0,
    requests: [],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  receivers.push(receiver);
  return receiver;
}

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const payload = JSON.stringify({
  type: 'message.delivered',
  data: { messageId: 'm-1', note: 'grüße' },
});

function send(
  url: string,
  extra: Partial<Parameters<typeof sendWebhook>[0]> = {},
): Promise<WebhookResponse> {
  return sendWebhook({
    url,
    secret,
    id: 'msg_2aB3',
    timestamp: new Date(),
    payload,
    allowPrivate: true,
    ...extra,
  });
}

describe('webhook sender', () => {
  it('POSTs the payload with Standard Webhooks headers that verify', async () => {
    const receiver = await startReceiver((_req, res) => res.writeHead(200).end('{"ok":true}'));
    const timestamp = new Date();
    const result = await send(receiver.url, { timestamp, id: 'msg_verify' });
    assert.equal(result.status, 200);
    assert.equal(result.excerpt, '{"ok":true}');
    assert.equal(result.error, undefined);
    assert.equal(classifyWebhookResponse(result), 'success');

    assert.equal(receiver.requests.length, 1);
    const { method, url, headers, body } = receiver.requests[0];
    assert.equal(method, 'POST');
    assert.equal(url, '/hooks/relay');
    assert.equal(body, payload);
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['user-agent'], 'smime-relay-webhooks');
    assert.equal(headers['webhook-id'], 'msg_verify');
    assert.equal(headers['webhook-timestamp'], String(Math.floor(timestamp.getTime() / 1000)));

    const signed = {
      'webhook-id': String(headers['webhook-id']),
      'webhook-timestamp': String(headers['webhook-timestamp']),
      'webhook-signature': String(headers['webhook-signature']),
    };
    assert.deepEqual(new Webhook(secret).verify(body, signed), JSON.parse(payload));
    assert.throws(
      () => new Webhook(secret).verify(body.replace('m-1', 'm-2'), signed),
      /No matching signature/,
    );

    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key)
      .update(`${signed['webhook-id']}.${signed['webhook-timestamp']}.${body}`)
      .digest('base64');
    assert.equal(signed['webhook-signature'], `v1,${expected}`);
  });

  it('returns a redirect as its status and does not follow it', async () => {
    const target = await startReceiver();
    const redirecting = await startReceiver((_req, res) =>
      res.writeHead(302, { location: target.url }).end('moved'),
    );
    const result = await send(redirecting.url);
    assert.equal(result.status, 302);
    assert.equal(classifyWebhookResponse(result), 'fail');
    assert.equal(redirecting.requests.length, 1);
    assert.equal(target.requests.length, 0);
    assert.equal(target.connections, 0);
  });

  it('gives up on a receiver that does not answer in time and says so', async () => {
    const silent = await startReceiver(() => undefined);
    const result = await send(silent.url, { timeoutMs: 300 });
    assert.equal(result.status, null);
    assert.equal(result.error, 'no answer within 0.3 s');
    assert.equal(result.refused, undefined);
    assert.equal(classifyWebhookResponse(result), 'retry');
  });

  it('counts a body that never finishes against the same deadline', async () => {
    const trickle = await startReceiver((_req, res) => {
      res.writeHead(200);
      res.write('{"ok":');
    });
    const result = await send(trickle.url, { timeoutMs: 300 });
    assert.equal(result.status, null);
    assert.equal(result.error, 'no answer within 0.3 s');
  });

  it('reads only the first 512 bytes of a huge answer and then hangs up', async () => {
    const total = 256 * 1024 * 1024;
    let written = 0;
    let reportHangUp!: (early: boolean) => void;
    const hungUpEarly = new Promise<boolean>((resolve) => (reportHangUp = resolve));
    const huge = await startReceiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      chunk.write('start:');
      const pump = (): void => {
        while (written < total && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (written >= total) res.end();
      };
      res.on('close', () => reportHangUp(written < total));
      pump();
    });
    const result = await send(huge.url);
    assert.equal(result.status, 200);
    assert.equal(Buffer.byteLength(result.excerpt), 512);
    assert.equal(result.excerpt, 'start:' + 'x'.repeat(506));
    assert.equal(await hungUpEarly, true, 'the sender hung up before the whole body was sent');
  });

  it('does not cut a UTF-8 character in half at the 512-byte limit', async () => {
    const receiver = await startReceiver((_req, res) =>
      res.writeHead(500).end('a'.repeat(511) + 'ü' + 'tail'),
    );
    const result = await send(receiver.url);
    assert.equal(result.status, 500);
    assert.equal(result.excerpt, 'a'.repeat(511));
    assert.equal(classifyWebhookResponse(result), 'retry');
  });

  it('refuses a loopback URL when private addresses are not allowed, before connecting', async () => {
    const receiver = await startReceiver();
    const result = await send(`http://127.0.0.1:${receiver.port}/`, { allowPrivate: false });
    assert.equal(result.refused, true);
    assert.equal(result.status, null);
    assert.match(result.error ?? '', /resolves to 127\.0\.0\.1, a loopback address/);
    assert.equal(classifyWebhookResponse(result), 'fail');
    assert.equal(receiver.connections, 0);
    assert.equal(receiver.requests.length, 0);
  });

  it('checks the address a host name resolves to when connecting (DNS rebinding)', async () => {
    const receiver = await startReceiver();
    const rebound: Lookup = async () => [{ address: '127.0.0.1', family: 4 }];
    const url = `http://hooks.customer.example:${receiver.port}/`;
    const refused = await send(url, { allowPrivate: false, lookup: rebound });
    assert.equal(refused.refused, true);
    assert.match(
      refused.error ?? '',
      /^hooks\.customer\.example resolves to 127\.0\.0\.1, a loopback address/,
    );
    assert.equal(receiver.connections, 0);

    const allowed = await send(url, { allowPrivate: true, lookup: rebound });
    assert.equal(allowed.status, 204);
    assert.equal(receiver.requests.length, 1);
    assert.equal(receiver.requests[0].headers.host, `hooks.customer.example:${receiver.port}`);
  });

  it('returns a refused connection as a network error worth a retry', async () => {
    const gone = await startReceiver();
    await gone.close();
    const result = await send(gone.url);
    assert.equal(result.status, null);
    assert.equal(result.refused, undefined);
    assert.equal(result.error, `127.0.0.1:${gone.port} refused the connection`);
    assert.equal(classifyWebhookResponse(result), 'retry');
  });

  it('refuses a URL that is not http(s) without throwing', async () => {
    const result = await send('ftp://example.com/hooks');
    assert.equal(result.refused, true);
    assert.match(result.error ?? '', /only http and https are allowed/);
  });
});

describe('webhook response classification', () => {
  const response = (
    status: number | null,
    extra: Partial<WebhookResponse> = {},
  ): WebhookResponse => ({
    status,
    latencyMs: 1,
    excerpt: '',
    ...extra,
  });
  const table: [WebhookResponse, ReturnType<typeof classifyWebhookResponse>][] = [
    [response(200), 'success'],
    [response(201), 'success'],
    [response(204), 'success'],
    [response(299), 'success'],
    [response(410), 'gone'],
    [response(408), 'retry'],
    [response(429), 'retry'],
    [response(500), 'retry'],
    [response(502), 'retry'],
    [response(503), 'retry'],
    [response(599), 'retry'],
    [response(null, { error: 'no answer within 10 s' }), 'retry'],
    [response(null, { error: '127.0.0.1:1 refused the connection' }), 'retry'],
    [response(null, { error: 'resolves to 10.0.0.1, a private address', refused: true }), 'fail'],
    [response(301), 'fail'],
    [response(302), 'fail'],
    [response(304), 'fail'],
    [response(307), 'fail'],
    [response(400), 'fail'],
    [response(401), 'fail'],
    [response(403), 'fail'],
    [response(404), 'fail'],
    [response(409), 'fail'],
    [response(413), 'fail'],
    [response(422), 'fail'],
  ];
  for (const [r, outcome] of table) {
    it(`${r.refused ? 'refused' : (r.status ?? r.error)} is ${outcome}`, () =>
      assert.equal(classifyWebhookResponse(r), outcome));
  }
});
