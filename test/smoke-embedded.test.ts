/**
 * The service as `npm start` runs it, with nothing configured but a port and a token: the
 * embedded database and a generated master key under a fresh DATA_DIR. A tenant, a
 * certificate and a test signature over HTTP.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { P12_PASSWORD, createTestPki } from './helpers/pki';
import { freePort } from './helpers/ports';
import { verifyWithOpenssl } from './helpers/verifiers';
import { UNSIGNED } from './support/reference';

const TOKEN = 'smoke-test-operator-token-0123456789';
let child: ChildProcess;
let dataDir: string;
let base: string;
let output = '';

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'smime-smoke-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    HTTP_PORT: String(port),
    ADMIN_TOKEN: TOKEN,
    DATABASE_URL: '',
  };
  delete env.MASTER_KEY;
  child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/cli/main.ts', 'serve'], {
    cwd: resolve(__dirname, '..'),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  // Compiling the sources and opening the embedded database can take a while on a busy
  // machine: up to two minutes.
  for (const until = Date.now() + 120_000; Date.now() < until;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the service did not start:\n${output}`);
});

after(async () => {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await rm(dataDir, { recursive: true, force: true });
});

test('embedded default: tenant, certificate and a signed message over HTTP', async () => {
  assert.ok(existsSync(join(dataDir, 'master.key')), 'a master key was generated');
  assert.ok(existsSync(join(dataDir, 'pgdata')), 'the embedded database lives in DATA_DIR');
  assert.match(output, /MASTER_KEY is not set: generated one/);
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const created = await fetch(`${base}/v1/tenants`, {
    method: 'POST',
    headers: auth,
    body: '{"name":"Smoke"}',
  });
  const tenant = (await created.json()) as { id: string };
  const pki = await createTestPki();
  const body = JSON.stringify({
    pkcs12: pki.identities.p256.p12?.toString('base64'),
    password: P12_PASSWORD,
  });
  const cert = await fetch(`${base}/v1/tenants/${tenant.id}/certificates`, {
    method: 'POST',
    headers: auth,
    body,
  });
  assert.equal(cert.status, 201, await cert.clone().text());
  const signed = await fetch(`${base}/v1/tenants/${tenant.id}/sign`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'message/rfc822' },
    body: new Uint8Array(UNSIGNED),
  });
  assert.equal(signed.status, 200);
  const res = await verifyWithOpenssl(Buffer.from(await signed.arrayBuffer()), pki);
  assert.ok(res.ok, res.output);
  assert.ok(!output.includes(TOKEN), 'the token is not logged');
});
