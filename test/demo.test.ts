/**
 * `smime-relay demo`, run as a user runs it (a child process of the CLI): one command takes
 * a newsletter through a relay on the embedded database to a local upstream, and the
 * signed message it leaves in the data directory verifies with openssl against its test CA.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { verifyMessage } from '../src/smime';
import { DEMO_QUEUE_PREFIX } from '../src/demo/demo-env';
import { run } from './helpers/pki-exec';
import { freePort } from './helpers/ports';
import { testRedis, type TestRedis } from './helpers/redis';

const ROOT = resolve(__dirname, '..');

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemoCli(args: string[], env: Record<string, string>): Promise<DemoRun> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', 'src/cli/main.ts', 'demo', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

const show = (r: DemoRun): string => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

/** Runs of 20+ token characters that are not UUIDs: the shape of every generated secret. */
function secretLookingWords(text: string): string[] {
  const withoutUuids = text.replace(
    /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
    ' ',
  );
  return withoutUuids.match(/[A-Za-z0-9_-]{20,}/g) ?? [];
}

let dataRoot: string;
let redis: TestRedis;

before(async () => {
  dataRoot = mkdtempSync(join(tmpdir(), 'demo-'));
  redis = await testRedis();
});

after(async () => {
  rmSync(dataRoot, { recursive: true, force: true });
  // The demo always uses its own queue prefix; remove its keys from the test database.
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  try {
    const keys = await client.keys(`${DEMO_QUEUE_PREFIX}*`);
    if (keys.length) await client.del(...keys);
  } finally {
    client.disconnect();
  }
});

describe('smime-relay demo', () => {
  test('sends a newsletter through the relay and leaves a signed message that openssl verifies', async () => {
    const dataDir = join(dataRoot, 'ok');
    const r = await runDemoCli(['--data-dir', dataDir], { REDIS_URL: redis.url });
    assert.equal(r.code, 0, show(r));

    const signedPath = join(dataDir, 'demo-signed.eml');
    assert.match(
      r.stdout,
      new RegExp(`^\\s*signed\\s+${signedPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
      show(r),
    );
    assert.match(r.stdout, /openssl\s+Verification successful/, show(r));
    assert.match(r.stdout, /delivered/, show(r));
    assert.ok(existsSync(signedPath), `${signedPath} exists`);

    const caPath = join(dataDir, 'demo-ca', 'ca.pem');
    // prettier-ignore
    const openssl = await run('openssl', [
      'cms', '-verify', '-binary', '-crlfeol', '-purpose', 'smimesign', '-CAfile', caPath,
      '-inform', 'SMIME', '-in', signedPath, '-out', '/dev/null',
    ]);
    assert.equal(openssl.code, 0, openssl.stderr);
    assert.match(openssl.stdout + openssl.stderr, /Verification successful/);

    const signed = readFileSync(signedPath);
    const report = await verifyMessage(signed, { trustAnchors: [readFileSync(caPath, 'utf8')] });
    assert.equal(report.valid, true, JSON.stringify(report));
    const headers = signed.subarray(0, signed.indexOf('\r\n\r\n')).toString('latin1');
    assert.match(headers, /^Content-Type: multipart\/signed;/im);
    assert.match(headers, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/im);
    assert.match(headers, /^From: .*\s*.*<news@demo\.example>/im);

    const output = r.stdout + r.stderr;
    assert.doesNotMatch(output, /^\s+at /m, 'no stack trace');
    assert.deepEqual(secretLookingWords(output), [], 'no token or password in the output');
    const masterKey = readFileSync(join(dataDir, 'master.key'), 'utf8').trim();
    assert.ok(!output.includes(masterKey), 'the master key is not in the output');
  });

  test('an unreachable Redis gives one error line and exit 2, without starting anything', async () => {
    const dataDir = join(dataRoot, 'no-redis');
    const port = await freePort();
    const r = await runDemoCli(['--data-dir', dataDir], {
      REDIS_URL: `redis://demo:hunter2-secret@127.0.0.1:${port}`,
    });
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stdout, '', show(r));
    assert.match(
      r.stderr,
      new RegExp(
        `^error \\[config\\]: Redis does not answer at redis://127\\.0\\.0\\.1:${port}[^\\n]*\\n$`,
      ),
      show(r),
    );
    assert.ok(!r.stderr.includes('hunter2-secret'), 'the Redis password is not shown');
    assert.equal(existsSync(dataDir), false, 'no data directory was made');
  });
});
