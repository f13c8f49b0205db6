/**
 * Failures reported back to the platform, through the real relay: a message the upstream
 * refuses for good becomes a hard bounce in listmonk's bounce webhook or a Do-Not-Contact
 * entry in Mautic; one that runs out of retries is a soft bounce. The platforms are
 * loopback servers speaking their documented APIs. A Mautic-shaped message submitted
 * over SMTP is delivered signed with its header fields intact.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { eventually, op, queuedId, setupTenant, submit, submitter } from '../support/relay';
import type { RelayTenant } from '../support/relay';
import { startListmonkFake, startMauticFake, type PlatformFake } from '../helpers/platform-fakes';
import { createTestPki } from '../helpers/pki';
import { verifyWithOpenssl } from '../helpers/openssl';
import { fieldValue, headerFields } from '../helpers/message-headers';
import { postback, subscriber } from './listmonk-payloads';
import { MAUTIC_EMAIL_ID, mauticMessage } from './mautic-message';

let app: TestApp;
let sink: SmtpSink;
const fakes: PlatformFake[] = [];
/** Every postback login password handed out, to look for in the log. */
const postbackPasswords: string[] = [];

before(async () => {
  // 550 for addresses starting with "gone", 451 for "later": the rest is accepted.
  sink = await startSink({
    reply: (raw) => {
      const to = /^To: .*$/im.exec(raw.toString('latin1'))?.[0] ?? '';
      if (/gone/.test(to)) return { code: 550, text: '5.1.1 mailbox unavailable' };
      if (/policy/.test(to)) return { code: 550, text: '5.7.1 rejected by local policy' };
      if (/later/.test(to)) return { code: 451, text: '4.2.0 try again later' };
      return undefined;
    },
  });
  app = await startApp({
    PLATFORM_ALLOW_PRIVATE: 'true',
    WEBHOOK_DISPATCH_INTERVAL_SECONDS: '0.1',
    FEEDBACK_RETRY_INITIAL_SECONDS: '0.2',
    RETRY_INITIAL_SECONDS: '0.2',
    RETRY_MAX_SECONDS: '0.5',
    RETRY_GIVE_UP_HOURS: '0.0006',
  });
});
after(async () => {
  await app?.close();
  await sink?.stop();
  for (const f of fakes) await f.close();
});

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

async function integrate(t: RelayTenant, platform: string, body: unknown) {
  const r = await app.request('POST', `/v1/tenants/${t.id}/integrations/${platform}`, {
    ...op,
    body,
  });
  assert.equal(r.status, 201, r.text);
  if (r.json.password) postbackPasswords.push(r.json.password);
  return r.json;
}

describe('listmonk: failures become bounces', () => {
  let tenant: RelayTenant;
  let listmonk: PlatformFake;
  let login: { username: string; password: string };

  before(async () => {
    tenant = await setupTenant(app, sink.port);
    listmonk = await startListmonkFake('relay-bounces', 'listmonk-api-token');
    fakes.push(listmonk);
    login = await integrate(tenant, 'listmonk', {
      rootUrl: listmonk.url,
      bounce: { username: 'relay-bounces', password: 'listmonk-api-token' },
    });
  });

  const send = async (body: unknown) => {
    const res = await fetch(`${app.url}/v1/inbound/listmonk`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: basic(login.username, login.password),
      },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.text());
  };
  const bouncesFor = (email: string) =>
    listmonk.requests.filter((r) => (r.json as { email?: string })?.email === email);

  test('a 550 from the upstream is a hard bounce with the campaign and subscriber', async () => {
    const s = subscriber('gone@example.net', 'Gone');
    const p = postback({ subscribers: [s] });
    // listmonk's bounce webhook fails once: the feedback is tried again.
    listmonk.failNext.push(503);
    await send(p);
    const [bounce] = await eventually(
      async () => {
        const b = bouncesFor(s.email).filter((r) => r.headers.authorization);
        return b.length >= 2 ? b.slice(1) : undefined;
      },
      30_000,
      'the bounce',
    );
    assert.equal(bounce.method, 'POST');
    assert.equal(bounce.path, '/webhooks/bounce');
    assert.equal(bounce.headers.authorization, basic('relay-bounces', 'listmonk-api-token'));
    assert.equal(bounce.headers['content-type'], 'application/json');
    const body = bounce.json as Record<string, string>;
    assert.equal(body.type, 'hard');
    assert.equal(body.source, 'smime-relay');
    assert.equal(body.campaign_uuid, p.campaign.uuid);
    assert.equal(body.subscriber_uuid, s.uuid);
    const meta = JSON.parse(body.meta);
    assert.equal(meta.code, 'delivery_rejected');
    assert.match(meta.reply, /550/);
  });

  test('a policy refusal (5.7.1) is not about the address: a soft bounce', async () => {
    const s = subscriber('policy@example.net', 'Policy');
    await send(postback({ subscribers: [s] }));
    const [bounce] = await eventually(
      async () => (bouncesFor(s.email).length ? bouncesFor(s.email) : undefined),
      30_000,
      'the soft bounce',
    );
    const body = bounce.json as Record<string, string>;
    assert.equal(body.type, 'soft');
    assert.equal(JSON.parse(body.meta).code, 'delivery_rejected');
  });

  test('a message that keeps being deferred until retries run out is a soft bounce', async () => {
    const s = subscriber('later@example.net', 'Later');
    await send(postback({ subscribers: [s] }));
    const [bounce] = await eventually(
      async () => (bouncesFor(s.email).length ? bouncesFor(s.email) : undefined),
      60_000,
      'the soft bounce',
    );
    const body = bounce.json as Record<string, string>;
    assert.equal(body.type, 'soft');
    assert.equal(JSON.parse(body.meta).code, 'delivery_expired');
  });

  test('a delivered message reports nothing', async () => {
    const s = subscriber('fine@example.net', 'Fine');
    await send(postback({ subscribers: [s] }));
    await eventually(
      async () => sink.messages.find((m) => m.envelope.to.includes(s.email)),
      30_000,
      'delivery',
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(bouncesFor(s.email).length, 0);
  });
});

describe('Mautic: SMTP in, Do-Not-Contact back', () => {
  let basicTenant: RelayTenant;
  let oauthTenant: RelayTenant;
  let mauticBasic: PlatformFake;
  let mauticOauth: PlatformFake;
  let basicIntegration = '';

  before(async () => {
    basicTenant = await setupTenant(app, sink.port);
    oauthTenant = await setupTenant(app, sink.port);
    mauticBasic = await startMauticFake({
      // The first one also matches a search for gone-basic@example.net.
      contacts: {
        'old.gone-basic@example.net': 41,
        'gone-basic@example.net': 42,
        'gone-51@example.net': 43,
      },
      basic: { user: 'api-user', pass: 'api-pass' },
    });
    mauticOauth = await startMauticFake({
      contacts: { 'gone-oauth@example.net': 77 },
      oauth: { clientId: 'client-1', clientSecret: 'client-secret-1' },
    });
    fakes.push(mauticBasic, mauticOauth);
    basicIntegration = (
      await integrate(basicTenant, 'mautic', {
        baseUrl: mauticBasic.url,
        credentials: { type: 'basic', username: 'api-user', password: 'api-pass' },
      })
    ).id;
    await integrate(oauthTenant, 'mautic', {
      baseUrl: `${mauticOauth.url}/`,
      credentials: { type: 'oauth2', clientId: 'client-1', clientSecret: 'client-secret-1' },
    });
  });

  const smtpSend = (t: RelayTenant, to: string) =>
    submit(submitter(app.smtpPort!, t, 1), mauticMessage(to), {
      from: 'news@example.com',
      to: [to],
    });

  test('a Mautic message over SMTP is delivered signed, its header fields intact', async () => {
    const to = 'reader@example.net';
    const original = mauticMessage(to);
    await submit(submitter(app.smtpPort!, basicTenant, 1), original, {
      from: 'news@example.com',
      to: [to],
    });
    const m = await eventually(
      async () => sink.messages.find((x) => x.raw.includes('X-EMAIL-ID')),
      30_000,
      'delivery',
    );
    assert.ok((await verifyWithOpenssl(m.raw, await createTestPki())).ok);
    const before = headerFields(original);
    const afterSigning = headerFields(m.raw);
    for (const name of ['x-email-id', 'list-unsubscribe', 'list-unsubscribe-post', 'precedence']) {
      assert.equal(fieldValue(afterSigning, name), fieldValue(before, name), name);
    }
    assert.ok(m.raw.includes('/email/6571f0a2b3c4d.gif'), 'the tracking pixel is kept');
    const detail = await app.request('GET', `/v1/tenants/${basicTenant.id}/messages?limit=1`, op);
    assert.equal(detail.status, 200);
  });

  test('a refused message puts the contact on Do-Not-Contact (Basic auth)', async () => {
    const reply = await smtpSend(basicTenant, 'gone-basic@example.net');
    queuedId(reply);
    const dnc = await eventually(
      async () => mauticBasic.requests.find((r) => r.path.endsWith('/dnc/email/add')),
      30_000,
      'the DNC call',
    );
    const search = mauticBasic.requests.find((r) => r.path === '/api/contacts');
    assert.equal(search?.query.get('search'), 'email:gone-basic@example.net');
    assert.equal(search?.headers.authorization, basic('api-user', 'api-pass'));
    assert.equal(dnc.path, '/api/contacts/42/dnc/email/add');
    const body = dnc.json as { reason: number; comments: string; channelId: number };
    assert.equal(body.reason, 2);
    assert.equal(body.channelId, Number(MAUTIC_EMAIL_ID));
    assert.match(body.comments, /\[delivery_rejected\]/);
    // The feedback attempt is in the integration's delivery log.
    const log = await eventually(
      async () => {
        const r = await app.request(
          'GET',
          `/v1/tenants/${basicTenant.id}/integrations/mautic/${basicIntegration}/deliveries`,
          op,
        );
        return r.json.find((d: { outcome: string }) => d.outcome === 'done');
      },
      10_000,
      'the logged attempt',
    );
    assert.match(log.detail, /contact 42 marked Do-Not-Contact/);
    assert.equal(log.attempt, 1);
  });

  test('a Mautic 5.1 message known only by its longer unsubscribe link reaches Do-Not-Contact', async () => {
    const to = 'gone-51@example.net';
    const raw = mauticMessage(to, '6571f0a2b3c4e', { version: '5.1', emailIdHeader: false });
    assert.ok(!raw.includes('X-EMAIL-ID'));
    queuedId(await submit(submitter(app.smtpPort!, basicTenant, 1), raw, { from: 'news@example.com', to: [to] }));
    const dnc = await eventually(
      async () => mauticBasic.requests.find((r) => r.path === '/api/contacts/43/dnc/email/add'),
      30_000,
      'the DNC call for the 5.1 message',
    );
    const body = dnc.json as { reason: number; comments: string; channelId?: number };
    assert.equal(body.reason, 2);
    assert.equal(body.channelId, undefined, 'no email id to tie it to');
    assert.match(body.comments, /\[delivery_rejected\]/);
  }); // prettier-ignore

  test('a policy refusal does not put the contact on Do-Not-Contact', async () => {
    const id = queuedId(await smtpSend(basicTenant, 'policy-basic@example.net'));
    await eventually(
      async () => {
        const m = await app.request('GET', `/v1/tenants/${basicTenant.id}/messages/${id}`, op);
        return m.json.state === 'failed' ? true : undefined;
      },
      30_000,
      'the failure',
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(
      !mauticBasic.requests.some((r) => r.query.get('search')?.includes('policy-basic')),
      'no contact search for a policy refusal',
    );
  });

  test('the same with OAuth2 client credentials', async () => {
    await smtpSend(oauthTenant, 'gone-oauth@example.net');
    const dnc = await eventually(
      async () => mauticOauth.requests.find((r) => r.path.endsWith('/dnc/email/add')),
      30_000,
      'the DNC call',
    );
    assert.equal(dnc.path, '/api/contacts/77/dnc/email/add');
    assert.equal(dnc.headers.authorization, 'Bearer mautic-access-token-0123456789');
    const token = mauticOauth.requests.find((r) => r.path === '/oauth/v2/token');
    assert.equal(token?.headers['content-type'], 'application/x-www-form-urlencoded');
  });

  test('a Mautic message from a tenant without a Mautic integration reports nothing', async () => {
    const other = await setupTenant(app, sink.port);
    const before = mauticBasic.requests.length + mauticOauth.requests.length;
    const id = queuedId(await smtpSend(other, 'gone-nobody@example.net'));
    await eventually(
      async () => {
        const m = await app.request('GET', `/v1/tenants/${other.id}/messages/${id}`, op);
        return m.json.state === 'failed' ? true : undefined;
      },
      30_000,
      'the failure',
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(mauticBasic.requests.length + mauticOauth.requests.length, before);
  });
});

describe('secrets stay out of the log', () => {
  test('no platform password, token or client secret appears in the log', () => {
    const log = app.logs.join('\n');
    assert.match(log, /PlatformFeedback/, 'the feedback was logged');
    const secrets = [
      'listmonk-api-token',
      'api-pass',
      'client-secret-1',
      'mautic-access-token-0123456789',
      ...postbackPasswords,
    ];
    for (const secret of secrets) {
      assert.ok(!log.includes(secret), `${secret} in the log`);
    }
  });
});
