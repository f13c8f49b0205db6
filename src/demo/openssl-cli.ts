/**
 * The `openssl` command line, run with an argument array (no shell), a C locale and a
 * timeout. Secrets go in through `env` (e.g. -passout env:NAME), never through arguments.
 */
import { execFile } from 'node:child_process';
import { ConfigError } from '../plugin/config-error';
import { RelayError } from '../plugin/relay-error';

export interface OpensslResult {
  /** Exit status; null when the process was killed. */
  code: number | null;
  /** stdout and stderr together, for messages and the verdict. */
  output: string;
}

export function openssl(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'openssl',
      args,
      {
        timeout: 30_000,
        encoding: 'utf8',
        env: { ...process.env, LC_ALL: 'C', LANG: 'C', ...env },
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code === 'string') {
          reject(
            new ConfigError(
              `cannot run openssl (${error.code}); the demo needs the openssl command on PATH`,
            ),
          );
          return;
        }
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** Run openssl and fail with its first line of complaint unless it exits 0. */
export async function opensslOk(
  what: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<string> {
  const result = await openssl(args, env);
  if (result.code !== 0) {
    const reason = result.output.trim().split('\n')[0] || `exit status ${String(result.code)}`;
    throw new RelayError('internal_error', `openssl could not ${what}: ${reason}`);
  }
  return result.output;
}
