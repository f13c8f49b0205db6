/**
 * /v1/tenants/:id/integrations/:platform: settings validated by the platform's DTO, secrets
 * sealed and read back redacted, the postback login shown once and working until the
 * integration is removed, tenants isolated, platform URLs checked by the egress guard.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { op } from '../support/relay';

let app: TestApp;
const tenants: { id: string; key: string }[] = [];

before(async () => {
  app = await startApp();
  for (const name of ['A', 'B']) {
    const t = await app.request('POST', '/v1/tenants', { ...op, body: { name } });
    const k = await app.request('POST', `/v1/tenants/${t.json.id}/api-keys`, { ...op, body: {} });
    tenants.push({ id: t.json.id, key: k.json.key });
  }
});
after(() => app?.close());

const path = (t: { id: string }, platform: string, id = '') =>
  `/v1/tenants/${t.id}/integrations/${platform}${id ? `/${id}` : ''}`;

describe('integrations API', () => {
  test('Mautic: secrets are redacted on every read and sealed in the database', async () => {
    const [a] = tenants;
    const r = await app.request('POST', path(a, 'mautic'), {
      token: a.key,
      body: {
        baseUrl: 'https://93.184.216.34/',
        credentials: { type: 'basic', username: 'api', password: 'mautic-api-password' },
      },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.settings.credentials.password, '[redacted]');
    assert.equal(r.json.username, undefined, 'Mautic never calls the relay: no login');
    const one = await app.request('GET', path(a, 'mautic', r.json.id), { token: a.key });
    assert.equal(one.json.settings.credentials.username, 'api');
    assert.equal(one.json.settings.credentials.password, '[redacted]');
    const [row] = await app.db.session.query<{ settings: object; sealed_secrets: Buffer }>(
      'SELECT settings, sealed_secrets FROM integrations WHERE id = $1',
      [r.json.id],
    );
    assert.ok(!JSON.stringify(row.settings).includes('mautic-api-password'));
    assert.ok(!Buffer.from(row.sealed_secrets).includes('mautic-api-password'));
  });

  test('Mautic OAuth2: the client secret is redacted too', async () => {
    const [a] = tenants;
    const r = await app.request('POST', path(a, 'mautic'), {
      token: a.key,
      body: {
        baseUrl: 'https://93.184.216.34',
        credentials: { type: 'oauth2', clientId: 'cid', clientSecret: 'mautic-client-secret' },
      },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.settings.credentials.clientId, 'cid');
    assert.equal(r.json.settings.credentials.clientSecret, '[redacted]');
    const list = await app.request('GET', path(a, 'mautic'), { token: a.key });
    assert.ok(!list.text.includes('mautic-client-secret'));
  });

  test('bad settings get 400 naming the field; an unknown platform 404', async () => {
    const [a] = tenants;
    const cases: [string, unknown, RegExp][] = [
      ['listmonk', { rootUrl: 'lists.example.com' }, /rootUrl/],
      ['listmonk', { rootUrl: 'https://lists.example.com', bounce: { username: 'x' } }, /password/],
      ['mautic', { baseUrl: 'https://m.example.com', credentials: { type: 'token' } }, /type/],
      ['mautic', { baseUrl: 'https://m.example.com', credentials: { type: 'oauth2' } }, /clientId/],
      ['listmonk', { rootUrl: 'https://lists.example.com', extra: 1 }, /extra/],
    ];
    for (const [platform, body, field] of cases) {
      const r = await app.request('POST', path(a, platform), { ...op, body });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.match(r.json.error.message, field);
    }
    const unknown = await app.request('POST', path(a, 'mailchimp'), { ...op, body: {} });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error.message, /listmonk, mautic|mautic, listmonk/);
  });

  test('a platform URL on a private address is refused unless PLATFORM_ALLOW_PRIVATE', async () => {
    const [a] = tenants;
    const r = await app.request('POST', path(a, 'listmonk'), {
      ...op,
      body: {
        rootUrl: 'http://127.0.0.1:9000',
        bounce: { username: 'api', password: 'token' },
      },
    });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error.message, /PLATFORM_ALLOW_PRIVATE/);
    // Without bounce feedback the relay never calls listmonk: the root URL is only for links.
    const links = await app.request('POST', path(a, 'listmonk'), {
      ...op,
      body: { rootUrl: 'http://127.0.0.1:9000' },
    });
    assert.equal(links.status, 201, links.text);
  });

  test('a tenant sees only its own integrations; another tenant gets 404', async () => {
    const [a, b] = tenants;
    const mine = await app.request('POST', path(b, 'listmonk'), {
      token: b.key,
      body: { rootUrl: 'https://lists.example.com' },
    });
    assert.equal(mine.status, 201, mine.text);
    assert.equal((await app.request('GET', path(b, 'listmonk'), { token: a.key })).status, 404);
    assert.equal(
      (await app.request('GET', path(b, 'listmonk', mine.json.id), { token: a.key })).status,
      404,
    );
    assert.equal(
      (await app.request('DELETE', path(b, 'listmonk', mine.json.id), { token: a.key })).status,
      404,
    );
    assert.equal(
      (await app.request('GET', path(a, 'listmonk', mine.json.id), { token: a.key })).status,
      404,
    );
    const list = await app.request('GET', path(b, 'listmonk'), { token: b.key });
    assert.deepEqual(
      list.json.map((i: { id: string }) => i.id),
      [mine.json.id],
    );
    assert.ok(!list.text.includes(mine.json.password));
  });

  test('a removed integration’s postback login stops working at once', async () => {
    const [, b] = tenants;
    const made = await app.request('POST', path(b, 'listmonk'), {
      token: b.key,
      body: { rootUrl: 'https://lists.example.com' },
    });
    const auth = `Basic ${Buffer.from(`${made.json.username}:${made.json.password}`).toString('base64')}`;
    const post = () =>
      fetch(`${app.url}/v1/inbound/listmonk`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth },
        body: JSON.stringify({ subject: 's', content_type: 'plain', body: 'b', recipients: [] }),
      });
    assert.equal((await post()).status, 400, 'the login works: the payload is what is refused');
    const del = await app.request('DELETE', path(b, 'listmonk', made.json.id), { token: b.key });
    assert.equal(del.status, 204);
    assert.equal((await post()).status, 401);
  });
});
