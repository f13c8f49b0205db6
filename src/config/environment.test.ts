import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadEnvironment } from './environment';
import { resolveMasterKey } from './master-key';

const dir = mkdtempSync(join(tmpdir(), 'smime-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  return '';
};

describe('environment', () => {
  it('has working defaults with nothing set', () => {
    const env = loadEnvironment({});
    assert.equal(env.HTTP_PORT, 8080);
    assert.equal(env.DATA_DIR, './data');
    assert.equal(env.NODE_ENV, 'development');
    assert.equal(env.DATABASE_URL, undefined);
    assert.equal(env.REDIS_URL, 'redis://127.0.0.1:6379');
  });

  it('converts and checks values, naming each bad variable but never its value', () => {
    assert.equal(loadEnvironment({ HTTP_PORT: '9090' }).HTTP_PORT, 9090);
    const m = message(() =>
      loadEnvironment({
        HTTP_PORT: 'eighty',
        DATABASE_URL: 'mysql://u:hunter2@db/x',
        ADMIN_TOKEN: 'short',
      }),
    );
    assert.match(m, /HTTP_PORT/);
    assert.match(m, /DATABASE_URL/);
    assert.match(m, /ADMIN_TOKEN/);
    assert.doesNotMatch(m, /hunter2|eighty|short/);
  });

  it('reads secrets from NAME_FILE, and refuses NAME and NAME_FILE together', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'a-long-admin-token-from-a-file\n');
    assert.equal(
      loadEnvironment({ ADMIN_TOKEN_FILE: file }).ADMIN_TOKEN,
      'a-long-admin-token-from-a-file',
    );
    assert.match(
      message(() => loadEnvironment({ ADMIN_TOKEN_FILE: file, ADMIN_TOKEN: 'x'.repeat(20) })),
      /both set/,
    );
    assert.match(
      message(() => loadEnvironment({ MASTER_KEY_FILE: join(dir, 'missing') })),
      /does not exist/,
    );
  });
});

describe('master key', () => {
  it('comes from MASTER_KEY when set', () => {
    const key = randomBytes(32);
    const source = resolveMasterKey(loadEnvironment({ MASTER_KEY: key.toString('base64') }));
    assert.equal(source.origin, 'environment');
    assert.deepEqual(source.key, key);
    assert.match(
      message(() => loadEnvironment({ MASTER_KEY: 'too-short' })),
      /MASTER_KEY must be 32 bytes/,
    );
  });

  it('is generated once into DATA_DIR outside production, with a warning, then reused', () => {
    const dataDir = join(dir, 'data');
    const warnings: string[] = [];
    const first = resolveMasterKey(loadEnvironment({ DATA_DIR: dataDir }), (m) => warnings.push(m));
    assert.equal(first.origin, 'generated');
    assert.equal(warnings.length, 1);
    assert.doesNotMatch(
      warnings[0],
      new RegExp(first.key.toString('base64').slice(0, 20).replace(/[+/]/g, '.')),
    );
    assert.equal(statSync(join(dataDir, 'master.key')).mode & 0o777, 0o600);
    const again = resolveMasterKey(loadEnvironment({ DATA_DIR: dataDir }), (m) => warnings.push(m));
    assert.equal(again.origin, 'data-dir');
    assert.deepEqual(again.key, first.key);
    assert.equal(warnings.length, 1, 'no second warning');
    assert.equal(
      readFileSync(join(dataDir, 'master.key'), 'utf8').trim(),
      first.key.toString('base64'),
    );
  });

  it('stops start-up in production when missing', () => {
    const env = loadEnvironment({ NODE_ENV: 'production', DATA_DIR: join(dir, 'prod') });
    assert.match(
      message(() => resolveMasterKey(env)),
      /MASTER_KEY .* is required in production/,
    );
  });
});
