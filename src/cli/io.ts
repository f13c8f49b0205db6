import { readFileSync, writeFileSync } from 'node:fs';
import { RelayError } from '../plugin/relay-error';

export function readInput(path: string | undefined, what: string): Buffer {
  try {
    return path === undefined || path === '-' ? readFileSync(0) : readFileSync(path);
  } catch (e) {
    const reason =
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw new RelayError('usage', `the ${what} ${path ?? '(stdin)'} ${reason}`);
  }
}

export function writeOutput(path: string | undefined, data: Buffer | string): void {
  if (path === undefined || path === '-') process.stdout.write(data);
  else writeFileSync(path, data);
}

/** A password from --password-env NAME or --password-file FILE (first line), never from argv. */
export function readPassword(
  env: string | undefined,
  file: string | undefined,
): string | undefined {
  if (env !== undefined && file !== undefined) {
    throw new RelayError('usage', 'give either --password-env or --password-file, not both');
  }
  if (env !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(env)) {
      // Never echo it: a user may have passed the password itself by mistake.
      throw new RelayError('usage', '--password-env takes the NAME of an environment variable');
    }
    const value = process.env[env];
    if (value === undefined)
      throw new RelayError('usage', `the environment variable ${env} is not set`);
    return value;
  }
  if (file !== undefined)
    return readInput(file, 'password file').toString('utf8').split(/\r?\n/)[0];
  return undefined;
}
