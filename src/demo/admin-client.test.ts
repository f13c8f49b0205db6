/**
 * The admin API client against a loopback server: send() answers every status as it came,
 * request() returns the JSON or throws a RelayError with the API's code.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { RelayError } from '../plugin/relay-error';
import { AdminClient } from './admin-client';

interface Seen {
  method?: string;
  url?: string;
  authorization?: string;
  contentType?: string;
  body: string;
}

let server: Server;
let baseUrl: string;
let last: Seen;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

before(async () => {
  server = createServer((req, res) => {
    void readBody(req).then((body) => {
      last = {
        method: req.method,
        url: req.url,
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
      };
      const reply = (status: number, text: string, type = 'application/json'): void => {
        res.writeHead(status, { 'content-type': type, 'x-test': 'yes' }).end(text);
      };
      if (req.url === '/ok') reply(200, JSON.stringify({ id: 't1', echo: body }));
      else if (req.url === '/refused') {
        reply(409, JSON.stringify({ error: { code: 'invalid_request', message: 'No, thanks.' } }));
      } else if (req.url === '/odd-code') {
        reply(400, JSON.stringify({ error: { code: 'no_such_code', message: 'Odd' } }));
      } else if (req.url === '/text') reply(502, 'Bad gateway', 'text/plain');
      else if (req.url === '/empty') reply(204, '');
      else reply(404, '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((r) => server.close(r));
});

test('send(): a 2xx JSON answer, with the bearer token and JSON body sent', async () => {
  const client = new AdminClient(baseUrl, 'op-token');
  const r = await client.send('POST', '/ok', { body: { name: 'x' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-test'), 'yes');
  assert.deepEqual(r.json, { id: 't1', echo: '{"name":"x"}' });
  assert.equal(r.text, JSON.stringify({ id: 't1', echo: '{"name":"x"}' }));
  assert.equal(last.method, 'POST');
  assert.equal(last.authorization, 'Bearer op-token');
  assert.equal(last.contentType, 'application/json');
});

test('send(): a token per call wins over the client own, and an empty one sends none', async () => {
  const client = new AdminClient(baseUrl, 'op-token');
  await client.send('GET', '/ok', { token: 'other' });
  assert.equal(last.authorization, 'Bearer other');
  assert.equal(last.contentType, undefined, 'no body, no content-type');
  await client.send('GET', '/ok', { token: '' });
  assert.equal(last.authorization, undefined);
  await new AdminClient(baseUrl).send('GET', '/ok');
  assert.equal(last.authorization, undefined);
});

test('send(): a raw body as it is, with the content-type the headers name', async () => {
  const client = new AdminClient(baseUrl);
  await client.send('POST', '/ok', {
    raw: 'From: a@example.com\r\n\r\nHi',
    body: { ignored: true },
    headers: { 'Content-Type': 'message/rfc822' },
  });
  assert.equal(last.body, 'From: a@example.com\r\n\r\nHi');
  assert.equal(last.contentType, 'message/rfc822');
});

test('send(): a 4xx answer is returned, not thrown', async () => {
  const r = await new AdminClient(baseUrl, 'op-token').send('DELETE', '/refused');
  assert.equal(r.status, 409);
  assert.deepEqual(r.json, { error: { code: 'invalid_request', message: 'No, thanks.' } });
});

test('send(): a body that is not JSON, or none, leaves json undefined', async () => {
  const client = new AdminClient(baseUrl);
  const text = await client.send('GET', '/text');
  assert.equal(text.status, 502);
  assert.equal(text.text, 'Bad gateway');
  assert.equal(text.json, undefined);
  const empty = await client.send('GET', '/empty');
  assert.equal(empty.status, 204);
  assert.equal(empty.text, '');
  assert.equal(empty.json, undefined);
});

test('request(): the JSON of a 2xx answer', async () => {
  const got = await new AdminClient(baseUrl, 'op-token').request('PUT', '/ok', { a: 1 });
  assert.deepEqual(got, { id: 't1', echo: '{"a":1}' });
  assert.equal(last.authorization, 'Bearer op-token');
});

test('request(): a refusal is a RelayError with the API code and message', async () => {
  const client = new AdminClient(baseUrl, 'op-token');
  await assert.rejects(client.request('POST', '/refused', {}), (e: unknown) => {
    assert.ok(e instanceof RelayError);
    assert.equal(e.code, 'invalid_request');
    assert.equal(e.message, 'POST /refused was refused: No, thanks');
    return true;
  });
});

test('request(): an unknown code or a body that is not JSON is internal_error', async () => {
  const client = new AdminClient(baseUrl, 'op-token');
  await assert.rejects(client.request('GET', '/odd-code'), {
    name: 'RelayError',
    code: 'internal_error',
    message: 'GET /odd-code was refused: Odd',
  });
  await assert.rejects(client.request('GET', '/text'), {
    name: 'RelayError',
    code: 'internal_error',
    message: 'GET /text was refused: HTTP 502',
  });
});

test('a call that gets no answer is a RelayError internal_error (failed), from both', async () => {
  const slow = createServer(() => undefined); // never answers
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
  try {
    const client = new AdminClient(url, 'op-token', { timeoutMs: 200 });
    await assert.rejects(client.send('GET', '/x'), { name: 'RelayError', code: 'internal_error' });
    await assert.rejects(client.request('GET', '/x'), {
      name: 'RelayError',
      code: 'internal_error',
      message: /^GET \/x failed: /,
    });
  } finally {
    slow.closeAllConnections();
    await new Promise((r) => slow.close(r));
  }
});
