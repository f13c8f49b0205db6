/**
 * The installable package as a user gets it: `npm pack` of this checkout (built in a copy,
 * so the checkout's own dist/ is left alone), `npm install -g` of the tarball into a prefix
 * of its own, and the installed `smime-relay` command run from an empty directory with a
 * clean environment: serve, migrate, doctor and demo. Nothing here runs from the checkout.
 * Dependencies come from the npm registry (or npm's cache), as on a user's machine.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from './helpers/ports';
import { createTestDatabase, type TestDatabase } from './helpers/postgres';
import { testRedis, type TestRedis } from './helpers/redis';
import { startDnsServer } from './helpers/dns-server';

const ROOT = resolve(__dirname, '..');
const PACKAGED = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'LICENSE',
  'README.md',
  'bin',
  'src',
  'plugins',
  'scripts',
];
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let work: string;
let tarball: string;
let bin: string;
let redis: TestRedis;
const databases: TestDatabase[] = [];

interface Run {
  code: number | null;
  out: string;
}

/** The installed command, from an empty directory, with only PATH, HOME and `env`. */
function installed(args: string[], env: Record<string, string>, cwd: string) {
  const chunks: string[] = [];
  const child = spawn(bin, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, NO_COLOR: '1', ...env },
  });
  child.stdout.on('data', (b: Buffer) => chunks.push(b.toString()));
  child.stderr.on('data', (b: Buffer) => chunks.push(b.toString()));
  const done = new Promise<Run>((r) =>
    child.once('exit', (code) => r({ code, out: chunks.join('') })),
  );
  return { child, done, out: () => chunks.join('') };
}

function emptyDir(name: string): string {
  const dir = join(work, 'run', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'package-install-'));
  const copy = join(work, 'checkout');
  for (const p of PACKAGED) cpSync(join(ROOT, p), join(copy, p), { recursive: true });
  // The build (prepack) compiles with the checkout's dev dependencies.
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const packed = execFileSync(npm, ['pack', '--silent', '--pack-destination', work], {
    cwd: copy,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  tarball = join(work, packed.trim().split('\n').pop()!.trim());
  const prefix = join(work, 'prefix');
  execFileSync(
    npm,
    ['install', '-g', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund'],
    { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 },
  );
  bin = join(prefix, 'bin', 'smime-relay');
  redis = await testRedis();
});
after(async () => {
  for (const d of databases) await d.drop();
  await redis?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the built relay, its migrations and console, and no tests', () => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
  const has = (re: RegExp) => files.some((f) => re.test(f));
  assert.ok(has(/^package\/bin\/smime-relay\.js$/), 'bin/smime-relay.js');
  assert.ok(has(/^package\/dist\/src\/cli\/main\.js$/), 'the compiled CLI');
  assert.ok(has(/^package\/dist\/src\/database\/migrations\/0001_.*\.sql$/), 'the migrations');
  assert.ok(has(/^package\/dist\/src\/console\/static\/index\.html$/), 'the console');
  assert.ok(has(/^package\/dist\/plugins\/smtp\//), 'the plugins');
  assert.ok(!has(/\.test\.(ts|js)$/), 'no test files');
  assert.ok(!has(/^package\/(src|test)\//), 'no TypeScript sources');
  assert.ok(!has(/fake-/), 'no provider fakes');
});

test('installed: smime-relay migrate applies the migrations to DATABASE_URL', async () => {
  const db = await createTestDatabase();
  databases.push(db);
  const run = await installed(['migrate'], { DATABASE_URL: db.url }, emptyDir('migrate')).done;
  assert.equal(run.code, 0, run.out);
  assert.match(run.out, /applied 0001_service_core\.sql/);
  const again = await installed(['migrate'], { DATABASE_URL: db.url }, emptyDir('migrate')).done;
  assert.equal(again.code, 0, again.out);
});

test('installed: smime-relay serve with no configuration answers, with its console', async () => {
  const dir = emptyDir('serve');
  const httpPort = await freePort();
  const relay = installed(
    ['serve'],
    {
      HTTP_PORT: String(httpPort),
      SMTP_PORT: String(await freePort()),
      DATA_DIR: join(dir, 'data'),
      REDIS_URL: redis.url,
      QUEUE_PREFIX: redis.prefix,
    },
    dir,
  );
  try {
    const base = `http://127.0.0.1:${httpPort}`;
    const until = Date.now() + 120_000;
    let ready: { status: string } | undefined;
    while (!ready) {
      if (relay.child.exitCode !== null) assert.fail(`serve exited:\n${relay.out()}`);
      try {
        const r = await fetch(`${base}/readyz`);
        if (r.ok) ready = (await r.json()) as { status: string };
      } catch {
        // not listening yet
      }
      if (!ready && Date.now() > until) assert.fail(`serve did not get ready:\n${relay.out()}`);
      if (!ready) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(ready.status, 'ready');
    const token = readFileSync(join(dir, 'data', 'admin-token'), 'utf8').trim();
    const tenants = await fetch(`${base}/v1/tenants`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(tenants.status, 200, 'the generated admin token works');
    const page = await fetch(`${base}/console/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    assert.match(relay.out(), /admin token/i, 'says where the admin token is');
  } finally {
    relay.child.kill('SIGTERM');
    const end = await relay.done;
    assert.equal(end.code, 0, `serve stopped cleanly:\n${end.out.slice(-2000)}`);
  }
});

test('installed: smime-relay doctor reads the domain from DNS', async () => {
  const dns = await startDnsServer({
    txt: {
      'demo.example': ['v=spf1 ip4:192.0.2.10 -all'],
      '_dmarc.demo.example': ['v=DMARC1; p=reject; rua=mailto:dmarc@demo.example'],
    },
  });
  try {
    const run = await installed(
      ['doctor', '--domain', 'demo.example', '--json'],
      { DNS_RESOLVER: dns.address, DATA_DIR: join(emptyDir('doctor'), 'data') },
      emptyDir('doctor'),
    ).done;
    assert.ok(run.code === 0 || run.code === 1, `a report, not an error:\n${run.out}`);
    const report = JSON.parse(run.out) as { domain: string; items: { check: string }[] };
    assert.equal(report.domain, 'demo.example');
    assert.ok(dns.asked.includes('TXT demo.example'), dns.asked.join(', '));
    assert.ok(dns.asked.includes('TXT _dmarc.demo.example'), dns.asked.join(', '));
    const dmarc = report.items.find((i) => i.check === 'dmarc') as
      { status: string; summary: string } | undefined;
    assert.ok(dmarc, run.out);
    assert.equal(dmarc.status, 'pass', dmarc.summary);
  } finally {
    await dns.close();
  }
});

test('installed: smime-relay demo signs a newsletter that openssl verifies', async () => {
  const dir = emptyDir('demo');
  const run = await installed(
    ['demo', '--data-dir', join(dir, 'demo')],
    { REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix },
    dir,
  ).done;
  assert.equal(run.code, 0, run.out);
  assert.match(run.out, /openssl\s+Verification successful/);
  const signed = readFileSync(join(dir, 'demo', 'demo-signed.eml'), 'latin1');
  assert.match(signed, /application\/(pkcs7|x-pkcs7)-signature/);
});

test('the systemd unit in docs/operating.md passes systemd-analyze with the installed command', (t) => {
  const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find(existsSync);
  if (!analyze) return t.skip('systemd-analyze is not installed here');
  const doc = readFileSync(join(ROOT, 'docs', 'operating.md'), 'utf8');
  const unit = /```ini\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(unit, 'docs/operating.md has a systemd unit');
  assert.match(unit, /^ExecStart=\/usr\/bin\/smime-relay serve/m);
  const file = join(work, 'smime-relay.service');
  writeFileSync(file, unit.replace('/usr/bin/smime-relay', bin));
  const r = spawnSync(analyze, ['verify', file], { encoding: 'utf8' });
  // Unknown keys are only warned about: any output is a defect in the documented unit.
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', r.stderr);
});
