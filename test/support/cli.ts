/**
 * Runs the smime-relay CLI (src/cli/main.ts) as a child process, the way a user would, and
 * checks the shape of its failures.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { newsletterByName } from '../fixtures/newsletters';

const ROOT = resolve(__dirname, '..', '..');
export const MESSAGE = newsletterByName('listmonk-alternative-qp-crlf').raw;

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `node -r @swc-node/register src/cli/main.ts ...args` in the project root. */
export function cli(args: string[], opts: { input?: Buffer; env?: Record<string, string> } = {}) {
  return new Promise<CliResult>((done, fail) => {
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', 'src/cli/main.ts', ...args],
      {
        cwd: ROOT,
        env: { ...process.env, ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined); // the CLI may exit before reading stdin
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}

export const show = (r: CliResult): string => `exit ${r.code}\nstderr: ${r.stderr}`;

/** Exit code `code`, nothing on stdout, and exactly one stderr line `error [errorCode]: ...`. */
export function assertFailure(
  r: CliResult,
  code: number,
  errorCode: string,
  secrets: string[] = [],
) {
  assert.equal(r.code, code, show(r));
  assert.equal(r.stdout.length, 0, 'nothing on stdout');
  assert.match(r.stderr, new RegExp(`^error \\[${errorCode}\\]: [^\\n]+\\n$`), show(r));
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  for (const s of secrets) assert.ok(!r.stderr.includes(s), `stderr reveals ${s}`);
}
