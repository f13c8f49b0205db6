/**
 * Tenant API keys: `srk_` and 32 random bytes (base64url). Only a SHA-256 hash is stored;
 * the key is shown once, when it is created.
 */
import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'srk_';

export function newApiKey(): { key: string; hash: Buffer; prefix: string } {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, hash: hashApiKey(key), prefix: key.slice(0, 12) };
}

export const hashApiKey = (key: string): Buffer =>
  createHash('sha256').update(key, 'utf8').digest();
