/**
 * The master key that wraps every private key's data key (see certificates/key-vault).
 * From MASTER_KEY (or MASTER_KEY_FILE); outside production a missing key is generated once
 * into DATA_DIR/master.key with a warning, in production it stops start-up.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Environment } from './environment';

export const MASTER_KEY_FILE_NAME = 'master.key';

export interface MasterKeySource {
  key: Buffer;
  /** Earlier keys from MASTER_KEY_PREVIOUS, accepted for opening during a rotation. */
  previous: Buffer[];
  /** Where it came from, for the start-up log line (never the key itself). */
  origin: 'environment' | 'generated' | 'data-dir';
  path?: string;
}

function decode(base64: string, where: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) throw new ConfigError(`${where} must hold 32 bytes in base64`);
  return key;
}

export function resolveMasterKey(
  env: Environment,
  warn: (message: string) => void = (m) => process.emitWarning(m),
): MasterKeySource {
  const previous = (env.MASTER_KEY_PREVIOUS ?? '')
    .split(',')
    .filter((k) => k !== '')
    .map((k) => decode(k, 'MASTER_KEY_PREVIOUS'));
  if (env.MASTER_KEY) {
    return { key: decode(env.MASTER_KEY, 'MASTER_KEY'), previous, origin: 'environment' };
  }
  if (env.NODE_ENV === 'production') {
    throw new ConfigError(
      'MASTER_KEY (or MASTER_KEY_FILE) is required in production; create one with: openssl rand -base64 32',
    );
  }
  const path = join(env.DATA_DIR, MASTER_KEY_FILE_NAME);
  if (existsSync(path)) {
    return { key: decode(readFileSync(path, 'utf8'), path), previous, origin: 'data-dir', path };
  }
  const key = randomBytes(32);
  mkdirSync(env.DATA_DIR, { recursive: true, mode: 0o700 });
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  warn(
    `MASTER_KEY is not set: generated one into ${path}. Keep that file secret and backed up; ` +
      'without it the stored private keys cannot be read. Set MASTER_KEY in production.',
  );
  return { key, previous, origin: 'generated', path };
}
