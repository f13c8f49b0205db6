/**
 * Small process helpers shared by the test PKI builder and the verifier wrappers.
 * Commands are always run with an argument array (no shell), a timeout, and a C locale.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Result of running an external command. */
export interface RunResult {
  /** Exit code; `null` when the process was killed (timeout, signal). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options for {@link run}. */
export interface RunOptions {
  /** Working directory. */
  cwd?: string;
  /** Kill the process after this many milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Extra environment variables (merged over `process.env`). */
  env?: Record<string, string>;
}

/**
 * Runs `cmd` with `args` and resolves with its exit code and output. Never rejects for a
 * non-zero exit status; rejects only when the binary cannot be spawned at all (ENOENT).
 */
export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        cwd: opts.cwd,
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
        env: { ...process.env, LC_ALL: 'C', LANG: 'C', LANGUAGE: 'C', ...opts.env },
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code === 'string') {
          reject(new Error(`cannot run ${cmd}: ${error.message}`));
          return;
        }
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        const killed = error && code === null ? `\n[${cmd} killed: ${String(error.signal)}]` : '';
        resolve({ code, stdout, stderr: stderr + killed });
      },
    );
  });
}

/** Like {@link run} but rejects (with the command's output) unless it exits with status 0. */
export async function runOk(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (exit ${String(res.code)}):\n${res.stdout}${res.stderr}`,
    );
  }
  return res;
}

/**
 * Returns a function that runs async tasks one at a time, in call order. Used to serialise
 * calls that share an on-disk database (gpgsm keybox, NSS db).
 */
export function createMutex(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const result = tail.then(task, task);
    tail = result.catch(() => undefined);
    return result;
  };
}

/** Runs `fn` with a fresh temp directory (under `os.tmpdir()`) that is removed afterwards. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What every verifier wrapper returns. */
export interface VerifyResult {
  /** True only when the verifier reports a good signature by a trusted, valid signer. */
  ok: boolean;
  /** The verifier's stdout + stderr (and the command line), for assertion messages. */
  output: string;
}

/** Formats a command and its result into {@link VerifyResult.output}. */
export function describeRun(cmd: string, args: readonly string[], res: RunResult): string {
  return `$ ${cmd} ${args.join(' ')}\n[exit ${String(res.code)}]\n${res.stdout}${res.stderr}`;
}
