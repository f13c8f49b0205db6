/**
 * Relay tests' building blocks: a tenant with a certificate, SMTP credentials and an
 * upstream (a loopback sink), and a real SMTP client that submits messages.
 */
import assert from 'node:assert/strict';
import { createTransport, type Transporter } from 'nodemailer';
import { createTestPki, P12_PASSWORD, type IdentityName } from '../helpers/pki';
import { after, before } from 'node:test';
import { ADMIN_TOKEN, startApp, type TestApp } from './app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { newsletter20k } from '../fixtures/newsletters';

export const op = { token: ADMIN_TOKEN };

/** Short retry settings, so a deferred message is tried again within a second. */
export const QUICK_RETRIES = {
  RETRY_INITIAL_SECONDS: '0.2',
  RETRY_MAX_SECONDS: '1',
  RECOVERY_INTERVAL_SECONDS: '1',
};

export interface RelayTenant {
  id: string;
  username: string;
  password: string;
}

/** A tenant whose certificate covers news@ and info@example.com, delivering to `sinkPort`. */
export async function setupTenant(
  app: TestApp,
  sinkPort: number,
  o: { identity?: IdentityName; signingPolicy?: 'require' | 'prefer'; certificate?: boolean } = {},
): Promise<RelayTenant> {
  const pki = await createTestPki();
  const t = await app.request('POST', '/v1/tenants', {
    ...op,
    body: { name: 'Relay test', signingPolicy: o.signingPolicy ?? 'require' },
  });
  assert.equal(t.status, 201, t.text);
  const id = t.json.id as string;
  if (o.certificate !== false) {
    const p12 = pki.identities[o.identity ?? 'rsa2048'].p12!;
    const c = await app.request('POST', `/v1/tenants/${id}/certificates`, {
      ...op,
      body: { pkcs12: p12.toString('base64'), password: P12_PASSWORD },
    });
    assert.equal(c.status, 201, c.text);
  }
  const d = await app.request('PUT', `/v1/tenants/${id}/delivery`, {
    ...op,
    body: { transport: 'smtp', host: '127.0.0.1', port: sinkPort, secure: false },
  });
  assert.equal(d.status, 200, d.text);
  const s = await app.request('POST', `/v1/tenants/${id}/smtp-credentials`, { ...op, body: {} });
  assert.equal(s.status, 201, s.text);
  return { id, username: s.json.username, password: s.json.password };
}

/** A pooled SMTP client logged in as the tenant. */
export function submitter(
  port: number,
  tenant: Pick<RelayTenant, 'username' | 'password'>,
  maxConnections = 4,
): Transporter {
  return createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections,
    auth: { user: tenant.username, pass: tenant.password },
  });
}

/** Submit one raw message; resolves to the relay's reply line ("250 2.6.0 queued as …"). */
export async function submit(
  client: Transporter,
  raw: Buffer,
  envelope = { from: 'bounces@example.com', to: ['reader@example.net'] },
): Promise<string> {
  const info = await client.sendMail({ envelope, raw });
  return info.response as string;
}

/** The message id in a 250 reply. */
export const queuedId = (reply: string): string => {
  const m = /queued as ([0-9a-f-]{36})/.exec(reply);
  assert.ok(m, `no message id in "${reply}"`);
  return m[1];
};

/** Poll until `check` returns a value (not undefined), or fail after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const BASE_NEWSLETTER = newsletter20k().toString('latin1');

/**
 * Newsletter number `n` of a batch: the 20 KB newsletter with a per-recipient token in its
 * links (so every body, and every signature, differs) and an `X-Seq: n` header to count by.
 */
export function personalisedNewsletter(n: number): Buffer {
  const token = n.toString(36).padStart(6, '0').slice(-6);
  return Buffer.from(`X-Seq: ${n}\r\n` + BASE_NEWSLETTER.replaceAll('abc123', token), 'latin1');
}

/** The X-Seq number of a delivered message. */
export function seqOf(raw: Buffer): number {
  const m = /^X-Seq: (\d+)\r?$/m.exec(raw.subarray(0, 4096).toString('latin1'));
  assert.ok(m, 'a delivered message lost its X-Seq header');
  return Number(m[1]);
}

/** Submit `count` newsletters over `connections` pooled connections; returns the message ids. */
export async function submitBatch(
  port: number,
  tenant: Pick<RelayTenant, 'username' | 'password'>,
  seqs: number[],
  connections = 4,
): Promise<string[]> {
  const client = submitter(port, tenant, connections);
  try {
    return await Promise.all(
      seqs.map(async (n) => queuedId(await submit(client, personalisedNewsletter(n)))),
    );
  } finally {
    client.close();
  }
}

/** Resolves once no message of the app's database is unfinished or failed. */
export async function allDelivered(app: TestApp, timeoutMs = 120_000): Promise<void> {
  await eventually(
    async () => {
      const [r] = await app.db.session.query<{ n: string }>(
        "SELECT count(*) AS n FROM messages WHERE state <> 'delivered'",
      );
      return Number(r.n) === 0 ? true : undefined;
    },
    timeoutMs,
    'every message delivered',
  );
}

export interface RelayFixture {
  app: TestApp;
  sink: SmtpSink;
  tenant: RelayTenant;
}

/**
 * A test file's relay: registers before/after hooks that start the service, a loopback
 * upstream and one tenant delivering to it, and stop them again.
 */
export function relayFixture(
  env: Record<string, string> = {},
  tenantOptions: Parameters<typeof setupTenant>[2] = {},
): RelayFixture {
  const fixture = {} as RelayFixture;
  before(async () => {
    fixture.sink = await startSink();
    fixture.app = await startApp(env);
    fixture.tenant = await setupTenant(fixture.app, fixture.sink.port, tenantOptions);
  });
  after(async () => {
    await fixture.app?.close();
    await fixture.sink?.stop();
  });
  return fixture;
}
