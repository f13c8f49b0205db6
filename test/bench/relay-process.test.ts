/**
 * The relay child the relay benchmark runs (`smime-relay serve` in its own process): it
 * starts on its own database and ports, answers the admin API, and stop() leaves nothing
 * behind. Also what it prints at start-up with LOG_LEVEL=warn.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Pool } from 'pg';
import { PG_ADMIN_URL } from '../helpers/postgres';
import { startRelay, type RelayProcess } from './relay-process';

let relay: RelayProcess;

before(async () => {
  relay = await startRelay({ profile: false });
});
after(async () => {
  await relay?.stop();
});

test('the relay child serves the admin API, and stop() ends it and drops its database', async () => {
  const created = await relay.api('POST', '/v1/tenants', { name: 'bench check' });
  assert.equal(created.status, 201, created.text);
  const listed = await relay.api('GET', '/v1/tenants');
  assert.equal(listed.status, 200, listed.text);
  assert.ok(relay.alive());

  await relay.stop();
  assert.equal(relay.alive(), false);
  const name = new URL(relay.databaseUrl).pathname.slice(1);
  const admin = new Pool({ connectionString: PG_ADMIN_URL, max: 1 });
  try {
    const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    assert.equal(rows.length, 0, `database ${name} is still there`);
  } finally {
    await admin.end();
  }
});

test('with LOG_LEVEL=warn the relay prints nothing below warn at start-up', () => {
  // relay.output holds everything the child wrote to stdout and stderr (Nest colours it).
  // eslint-disable-next-line no-control-regex
  const text = relay.output.join('').replace(/\x1b\[[0-9;]*m/g, '');
  assert.doesNotMatch(text, / LOG \[/, text);
});
