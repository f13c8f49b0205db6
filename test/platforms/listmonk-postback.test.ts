/**
 * listmonk's HTTP postback messenger through the real relay: payloads as listmonk posts
 * them become one signed message per recipient, delivered to a loopback upstream and
 * checked by OpenSSL; listmonk gets 200 only once every recipient is spooled; bad
 * requests are refused before anything is spooled; a repeated postback is sent once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { eventually, op, setupTenant, type RelayTenant } from '../support/relay';
import { createTestPki, type TestPki } from '../helpers/pki';
import { verifyWithOpenssl } from '../helpers/openssl';
import { postback, subscriber } from './listmonk-payloads';
import { fieldValue, headerFields } from '../helpers/message-headers';

let app: TestApp;
let sink: SmtpSink;
let pki: TestPki;
let tenant: RelayTenant;
let login: { username: string; password: string; postbackUrl: string };
const ROOT = 'https://lists.example.com';

before(async () => {
  pki = await createTestPki();
  sink = await startSink();
  app = await startApp({ PUBLIC_URL: 'https://relay.example.com/' });
  tenant = await setupTenant(app, sink.port);
  const r = await app.request('POST', `/v1/tenants/${tenant.id}/integrations/listmonk`, {
    ...op,
    body: { rootUrl: `${ROOT}/` },
  });
  assert.equal(r.status, 201, r.text);
  login = r.json;
});
after(async () => {
  await app?.close();
  await sink?.stop();
});

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

async function post(body: unknown, authorization = basic(login.username, login.password)) {
  const res = await fetch(`${app.url}/v1/inbound/listmonk`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'listmonk', authorization },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text, res };
}

const rows = async () =>
  Number(
    (
      await app.db.session.query<{ n: string }>(
        'SELECT count(*) AS n FROM messages WHERE tenant_id = $1',
        [tenant.id],
      )
    )[0].n,
  );

/** The delivered message for `email`, waiting for it. */
async function deliveredTo(email: string) {
  const until = Date.now() + 60_000;
  for (;;) {
    const m = sink.messages.find((x) => x.envelope.to.includes(email));
    if (m) return m;
    if (Date.now() > until) throw new Error(`nothing delivered to ${email}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('listmonk postback: setting it up', () => {
  test('the integration answers with the postback URL and a login shown once', async () => {
    assert.equal(login.postbackUrl, 'https://relay.example.com/v1/inbound/listmonk');
    assert.match(login.username, /^listmonk_/);
    assert.ok(login.password.length >= 40);
    const list = await app.request('GET', `/v1/tenants/${tenant.id}/integrations/listmonk`, op);
    assert.equal(list.status, 200);
    assert.equal(list.json.length, 1);
    assert.equal(list.json[0].settings.rootUrl, `${ROOT}/`);
    assert.ok(!list.text.includes(login.password));
  });
});

describe('listmonk postback: payloads as listmonk sends them', () => {
  test('an HTML campaign to three subscribers: three signed messages with the right headers', async () => {
    const subs = [
      subscriber('hanako@example.net', '山田 花子'),
      subscriber('john@example.net', 'John Doe'),
      subscriber('nameless@example.net', ''),
    ];
    const p = postback({ subscribers: subs });
    const r = await post(p);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.accepted.length, 3);
    for (const s of subs) {
      const m = await deliveredTo(s.email);
      const v = await verifyWithOpenssl(m.raw, pki);
      assert.ok(v.ok, v.output);
      const parsed = await simpleParser(m.raw);
      assert.equal(parsed.to && 'value' in parsed.to && parsed.to.value[0].address, s.email);
      if (s.name) assert.equal('value' in parsed.to! && parsed.to.value[0].name, s.name);
      assert.equal(parsed.subject, p.subject);
      const fields = headerFields(m.raw);
      assert.equal(
        fieldValue(fields, 'list-unsubscribe'),
        `<${ROOT}/subscription/${p.campaign.uuid}/${s.uuid}>`,
      );
      assert.equal(fieldValue(fields, 'list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
      assert.equal(fieldValue(fields, 'x-listmonk-campaign'), p.campaign.uuid);
      assert.equal(fieldValue(fields, 'x-listmonk-subscriber'), s.uuid);
      assert.match(parsed.html || '', /秋のお知らせ/);
      assert.equal(m.envelope.from, 'news@example.com');
    }
  });

  test('a plain-text campaign is text/plain, with the campaign headers and Return-Path as envelope', async () => {
    const s = subscriber('plain@example.net', 'Plain Reader');
    const p = postback({
      subscribers: [s],
      contentType: 'plain',
      body: 'Hello,\n\nthis is the plain edition.\n',
      headers: [{ 'X-Campaign-Tag': 'autumn-2026' }, { 'Return-Path': 'bounces@example.com' }],
    });
    const r = await post(p);
    assert.equal(r.status, 200, r.text);
    const m = await deliveredTo(s.email);
    assert.ok((await verifyWithOpenssl(m.raw, pki)).ok);
    const parsed = await simpleParser(m.raw);
    assert.equal(parsed.html, false);
    assert.match(parsed.text ?? '', /this is the plain edition/);
    assert.equal(parsed.headers.get('x-campaign-tag'), 'autumn-2026');
    assert.equal(m.envelope.from, 'bounces@example.com');
    assert.doesNotMatch(String(m.raw), /^Return-Path:/im);
  });

  test('a campaign with attachments carries them, byte for byte', async () => {
    const s = subscriber('files@example.net', 'Files Reader');
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(3000, 0xa7)]);
    const p = postback({
      subscribers: [s],
      attachments: [
        { name: 'programme.pdf', type: 'application/pdf', content: pdf },
        { name: 'notes.txt', type: 'text/plain', content: Buffer.from('seat 12A\n') },
      ],
    });
    const r = await post(p);
    assert.equal(r.status, 200, r.text);
    const m = await deliveredTo(s.email);
    assert.ok((await verifyWithOpenssl(m.raw, pki)).ok);
    const parsed = await simpleParser(m.raw);
    const files = parsed.attachments.filter((a) => a.filename !== 'smime.p7s');
    assert.deepEqual(
      files.map((a) => [a.filename, a.contentType]),
      [
        ['programme.pdf', 'application/pdf'],
        ['notes.txt', 'text/plain'],
      ],
    );
    assert.ok(files[0].content.equals(pdf));
  });

  test('the same postback again is accepted with 200 and sent once', async () => {
    const s = subscriber('twice@example.net', 'Twice');
    const p = postback({ subscribers: [s] });
    const first = await post(p);
    const second = await post(p);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(second.json.accepted[0].messageId, first.json.accepted[0].messageId);
    assert.equal(second.json.accepted[0].duplicate, true);
    await deliveredTo(s.email);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(sink.messages.filter((m) => m.envelope.to.includes(s.email)).length, 1);
  });
});

describe('listmonk postback: refused before anything is spooled', () => {
  const one = () => postback({ subscribers: [subscriber('refused@example.net', 'R')] });

  test('a wrong or missing Basic login gets 401 with a Basic challenge', async () => {
    const before = await rows();
    const wrong = await post(one(), basic(login.username, 'not-the-password'));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error.code, 'unauthorized');
    assert.match(wrong.res.headers.get('www-authenticate') ?? '', /^Basic /);
    const none = await post(one(), '');
    assert.equal(none.status, 401);
    const bearer = await post(one(), `Bearer ${op.token}`);
    assert.equal(bearer.status, 401);
    assert.equal(await rows(), before);
  });

  test('malformed payloads get 400 invalid_request naming the field', async () => {
    const before = await rows();
    const cases: [unknown, RegExp][] = [
      [{ ...one(), recipients: [] }, /recipients/],
      [
        { ...one(), recipients: [{ uuid: 'x', email: 'not an address' }] },
        /recipients\[0\]\.email/,
      ],
      [{ ...one(), subject: 42 }, /subject/],
      [{ ...one(), campaign: { ...one().campaign, from_email: '' } }, /from_email/],
      [{ ...one(), attachments: [{ name: 'a', header: {}, content: '!!!' }] }, /base64/],
      [
        { ...one(), campaign: { ...one().campaign, headers: [{ 'Return-Path': 'not mail' }] } },
        /Return-Path/,
      ],
      [[one()], /JSON object/],
    ];
    for (const [body, field] of cases) {
      const r = await post(body);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.code, 'invalid_request');
      assert.match(r.json.error.message, field);
    }
    const broken = await fetch(`${app.url}/v1/inbound/listmonk`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: basic(login.username, login.password),
      },
      body: '{"subject": ',
    });
    assert.equal(broken.status, 400);
    assert.equal(await rows(), before);
  });

  test('a From no certificate of the tenant names gets 422 from_mismatch', async () => {
    const before = await rows();
    const p = postback({
      subscribers: [subscriber('a@example.net', 'A'), subscriber('b@example.net', 'B')],
      fromEmail: 'Someone Else <marketing@example.org>',
    });
    const r = await post(p);
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.error.code, 'from_mismatch');
    assert.equal(await rows(), before);
  });

  test('each refusal is recorded with its code and the HTTP status listmonk got', async () => {
    const page = await eventually(
      async () => {
        const r = await app.request('GET', `/v1/tenants/${tenant.id}/refusals?limit=200`, op);
        assert.equal(r.status, 200, r.text);
        const listmonk = r.json.items.filter((x: { source: string }) => x.source === 'listmonk');
        return listmonk.length >= 8 ? listmonk : undefined;
      },
      10_000,
      'the postback refusals to be recorded',
    );
    const codes = page.map((x: { code: string; reply: string }) => `${x.code} ${x.reply}`);
    // The seven malformed payloads (a body that is not JSON at all never reaches the
    // postback: the HTTP layer refuses it) and the From no certificate names.
    assert.equal(codes.filter((c: string) => c === 'invalid_request 400').length, 7, codes.join());
    const mismatch = page.find((x: { code: string }) => x.code === 'from_mismatch');
    assert.ok(mismatch, codes.join());
    assert.equal(mismatch.reply, '422');
    assert.equal(mismatch.from, 'marketing@example.org');
    assert.deepEqual(mismatch.envelope.to, ['a@example.net']);
    assert.equal(mismatch.tenantId, tenant.id);
    assert.match(mismatch.message, /marketing@example\.org/);
  });
});
