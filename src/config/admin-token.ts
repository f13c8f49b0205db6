/**
 * The operator's admin token. ADMIN_TOKEN wins; without it, the first start generates one
 * into DATA_DIR/admin-token (owner-only) and prints once how to use it, so a relay started
 * with no configuration can be administered at all. Later starts read the same file.
 * Several instances on different hosts need the same ADMIN_TOKEN set explicitly.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Environment } from './environment';

export const ADMIN_TOKEN_FILE_NAME = 'admin-token';

export interface AdminTokenSource {
  token: string;
  origin: 'environment' | 'generated' | 'data-dir';
  path?: string;
}

function read(path: string): string {
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < 16) {
    throw new ConfigError(
      `${path} holds no usable admin token; delete the file to have a new one made, or set ADMIN_TOKEN`,
    );
  }
  return token;
}

export function resolveAdminToken(
  env: Pick<Environment, 'ADMIN_TOKEN' | 'DATA_DIR'>,
): AdminTokenSource {
  if (env.ADMIN_TOKEN) return { token: env.ADMIN_TOKEN, origin: 'environment' };
  const path = join(env.DATA_DIR, ADMIN_TOKEN_FILE_NAME);
  mkdirSync(env.DATA_DIR, { recursive: true, mode: 0o700 });
  const token = `srat_${randomBytes(24).toString('base64url')}`;
  try {
    writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return { token, origin: 'generated', path };
  } catch (e) {
    // Made by an earlier start, or by another process starting at the same moment.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return { token: read(path), origin: 'data-dir', path };
  }
}

/** What the first start prints, once: where the token is and how to use it. */
export function firstStartNotice(path: string, consoleUrl: string): string {
  const rule = '─'.repeat(72);
  return [
    rule,
    `No ADMIN_TOKEN was set: an admin token was generated into ${path}`,
    '(readable by this user only). Use it for the admin API and the console:',
    '',
    `  export ADMIN_TOKEN=$(cat ${path})`,
    `  curl -H "Authorization: Bearer $ADMIN_TOKEN" ${consoleUrl.replace(/\/console$/, '')}/v1/tenants`,
    `  console: ${consoleUrl} (paste the token to sign in)`,
    '',
    'Set ADMIN_TOKEN yourself to use another one; it always wins over the file.',
    rule,
    '',
  ].join('\n');
}
