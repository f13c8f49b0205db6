/**
 * /healthz and /readyz against the machine's PostgreSQL and Redis, and with Redis away.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort } from './helpers/ports';
import { startApp } from './support/app';

describe('health', () => {
  test('healthz is up, readyz sees PostgreSQL and Redis', async () => {
    const app = await startApp();
    try {
      const health = await fetch(`${app.url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(health.headers.get('x-powered-by'), null, 'the framework is not announced');
      const ready = await app.request('GET', '/readyz');
      assert.equal(ready.status, 200, ready.text);
      assert.deepEqual(ready.json, { status: 'ready', database: 'up', redis: 'up' });
    } finally {
      await app.close();
    }
  });

  test('the API is described by OpenAPI at /docs-json, browsable at /docs', async () => {
    const app = await startApp();
    try {
      const doc = await app.request('GET', '/docs-json');
      assert.equal(doc.status, 200);
      assert.match(doc.json.openapi, /^3\./);
      for (const path of ['/v1/tenants', '/v1/tenants/{tenantId}/certificates', '/v1/verify']) {
        assert.ok(doc.json.paths[path], `${path} is described`);
      }
      assert.deepEqual(Object.keys(doc.json.components.schemas.CreateTenantDto.properties).sort(), [
        'name',
        'signingPolicy',
      ]);
      assert.equal((await app.request('GET', '/docs')).status, 200);
    } finally {
      await app.close();
    }
  });

  test('readyz is 503 and names Redis when Redis does not answer', async () => {
    const app = await startApp({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    try {
      const health = await fetch(`${app.url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(health.headers.get('x-powered-by'), null, 'the framework is not announced');
      const ready = await app.request('GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.json, { status: 'not_ready', database: 'up', redis: 'down' });
    } finally {
      await app.close();
    }
  });
});
