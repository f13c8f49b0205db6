/**
 * Loopback servers speaking the parts of listmonk's and Mautic's HTTP APIs the relay calls,
 * as their documentation describes them. They record every request; a test can script the
 * status of the next answers.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  json?: unknown;
}

export interface PlatformFake {
  url: string;
  requests: RecordedRequest[];
  /** Statuses to answer the next requests with, instead of the normal answer. */
  failNext: number[];
  close(): Promise<void>;
}

type Route = (r: RecordedRequest) => { status: number; body: unknown };

async function startFake(
  auth: (r: RecordedRequest) => boolean,
  route: Route,
): Promise<PlatformFake> {
  const requests: RecordedRequest[] = [];
  const failNext: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const r: RecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        json,
      };
      requests.push(r);
      const forced = failNext.shift();
      const answer = forced
        ? { status: forced, body: { message: 'scripted failure' } }
        : !auth(r)
          ? { status: 403, body: { message: 'invalid credentials' } }
          : route(r);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const basic = (user: string, pass: string) =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** listmonk: POST /webhooks/bounce with Basic auth (API user and token) → {"data": true}. */
export function startListmonkFake(user: string, token: string): Promise<PlatformFake> {
  return startFake(
    (r) => r.headers.authorization === basic(user, token),
    (r) =>
      r.method === 'POST' && r.path === '/webhooks/bounce'
        ? { status: 200, body: { data: true } }
        : { status: 404, body: { message: 'not found' } },
  );
}

/**
 * Mautic: GET /api/contacts?search=email:<address> → {total, contacts: {id: {...}}};
 * POST /api/contacts/:id/dnc/email/add → {contact}; POST /oauth/v2/token (client
 * credentials) → {access_token, expires_in}. `contacts` maps addresses to contact ids.
 */
export function startMauticFake(o: {
  contacts: Record<string, number>;
  basic?: { user: string; pass: string };
  oauth?: { clientId: string; clientSecret: string };
}): Promise<PlatformFake> {
  const token = 'mautic-access-token-0123456789';
  return startFake(
    (r) => {
      if (r.path === '/oauth/v2/token') return true;
      if (o.basic) return r.headers.authorization === basic(o.basic.user, o.basic.pass);
      return r.headers.authorization === `Bearer ${token}`;
    },
    (r) => {
      if (r.method === 'POST' && r.path === '/oauth/v2/token') {
        const form = new URLSearchParams(r.body);
        const ok =
          form.get('grant_type') === 'client_credentials' &&
          form.get('client_id') === o.oauth?.clientId &&
          form.get('client_secret') === o.oauth?.clientSecret;
        return ok
          ? { status: 200, body: { access_token: token, expires_in: 3600, token_type: 'bearer' } }
          : { status: 400, body: { error: 'invalid_client' } };
      }
      if (r.method === 'GET' && r.path === '/api/contacts') {
        // Like Mautic's `email:` search, a LIKE match: similar addresses come back too.
        const wanted = (r.query.get('search') ?? '').replace(/^email:/, '').toLowerCase();
        const found = Object.entries(o.contacts).filter(([email]) =>
          email.toLowerCase().includes(wanted),
        );
        return {
          status: 200,
          body: found.length
            ? {
                total: found.length,
                contacts: Object.fromEntries(
                  found.map(([email, id]) => [id, { id, fields: { all: { email } } }]),
                ),
              }
            : { total: 0, contacts: [] },
        };
      }
      const dnc = /^\/api\/contacts\/(\d+)\/dnc\/email\/add$/.exec(r.path);
      if (r.method === 'POST' && dnc) {
        return { status: 200, body: { contact: { id: Number(dnc[1]) } } };
      }
      return { status: 404, body: { errors: [{ message: 'not found' }] } };
    },
  );
}
