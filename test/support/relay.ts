/**
 * Relay tests' building blocks: a tenant with a certificate, SMTP credentials and an
 * upstream (a loopback sink), and a real SMTP client that submits messages.
 */
import assert from 'node:assert/strict';
import { createTransport, type Transporter } from 'nodemailer';
import { createTestPki, P12_PASSWORD, type IdentityName } from '../helpers/pki';
import { ADMIN_TOKEN, type TestApp } from './app';

export const op = { token: ADMIN_TOKEN };

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
