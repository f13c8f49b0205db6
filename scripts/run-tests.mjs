#!/usr/bin/env node
// Runs every *.test.ts under src/, plugins/ and test/ with Node's own test runner.
// Usage: npm test [-- <substring filter on the file path>...]
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { URL } from 'node:url';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const roots = ['src', 'plugins', 'test'];
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(process.cwd(), path));
  }
  return out;
}

const files = roots
  .flatMap((r) => walk(r, []))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// The API and relay tests need PostgreSQL and Redis; say at once which one is missing
// instead of letting a test file wait for minutes.
const services = [
  {
    name: 'PostgreSQL',
    url: process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    variable: 'PG_ADMIN_URL',
    port: 5432,
    start: 'e.g. pg_ctlcluster 15 main start, or set PG_ADMIN_URL',
  },
  {
    name: 'Redis',
    url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    variable: 'TEST_REDIS_URL',
    port: 6379,
    start: 'e.g. redis-server --daemonize yes, or set TEST_REDIS_URL',
  },
];
function reachable(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3000 });
    const done = (ok, why) => {
      socket.destroy();
      resolve(ok ? undefined : why);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false, 'no answer within 3 s'));
    socket.once('error', (e) => done(false, e.code ?? e.message));
  });
}
for (const s of services) {
  const u = new URL(s.url);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(u.port || s.port);
  const why = await reachable(host, port);
  if (why) {
    console.error(
      `npm test needs ${s.name} at ${host}:${port} (${s.variable}): ${why}; start it (${s.start})`,
    );
    process.exit(1);
  }
}

const child = spawn(
  process.execPath,
  ['-r', '@swc-node/register', '--test', '--test-concurrency=2', ...passThrough, ...files],
  { stdio: 'inherit', env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.json' } },
);
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
