/**
 * Settings objects with secret fields (delivery settings, platform integrations): reading
 * and writing fields by dotted path, splitting the secrets out for sealing, redacting them
 * for the API, and class-validator errors as one sentence.
 */
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { RelayError } from '../plugin/relay-error';

export const REDACTED = '[redacted]';

export function getPath(o: Record<string, unknown>, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
}

export function setPath(o: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = o;
  for (const k of keys.slice(0, -1)) {
    if (typeof at[k] !== 'object' || at[k] === null) at[k] = {};
    at = at[k] as Record<string, unknown>;
  }
  at[keys[keys.length - 1]] = value;
}

export function deletePath(o: Record<string, unknown>, path: string): void {
  const keys = path.split('.');
  const parent = getPath(o, keys.slice(0, -1).join('.')) ?? o;
  if (keys.length === 1) delete o[keys[0]];
  else if (typeof parent === 'object' && parent)
    delete (parent as Record<string, unknown>)[keys[keys.length - 1]];
}

/** class-validator messages, flattened: "auth.pass must be a string; port must …". */
export function describeValidation(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => [
    ...Object.values(e.constraints ?? {}).map((m) => (prefix ? `${prefix}${m}` : m)),
    ...describeValidation(e.children ?? [], `${prefix}${e.property}.`),
  ]);
}

/** `plain` validated into an instance of `cls`, or invalid_request naming every problem. */
export async function validated<S extends object>(cls: new () => S, plain: unknown): Promise<S> {
  const settings = plainToInstance(cls, plain ?? {}) as S;
  const errors = await validate(settings, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    throw new RelayError('invalid_request', describeValidation(errors).join('; '));
  }
  return settings;
}

/** A plain copy of `settings` without its secret fields, and the secrets by path. */
export function splitSecrets(
  settings: object,
  secretFields: readonly string[],
): { plain: Record<string, unknown>; secrets: Record<string, unknown> } {
  const plain = JSON.parse(JSON.stringify(settings)) as Record<string, unknown>;
  const secrets: Record<string, unknown> = {};
  for (const path of secretFields) {
    const v = getPath(plain, path);
    if (v !== undefined) secrets[path] = v;
    deletePath(plain, path);
  }
  return { plain, secrets };
}

/** `plain` with the secret fields at `paths` shown as "[redacted]". */
export function redacted(
  plain: Record<string, unknown>,
  paths: readonly string[],
): Record<string, unknown> {
  const out = JSON.parse(JSON.stringify(plain)) as Record<string, unknown>;
  for (const p of paths) setPath(out, p, REDACTED);
  return out;
}

/** The stored plain fields and the opened secrets, as an instance of `cls` again. */
export function joinSecrets<S extends object>(
  cls: new () => S,
  stored: object,
  secrets: Record<string, unknown>,
): S {
  const plain = JSON.parse(JSON.stringify(stored)) as Record<string, unknown>;
  for (const [p, v] of Object.entries(secrets)) setPath(plain, p, v);
  return plainToInstance(cls, plain) as S;
}
