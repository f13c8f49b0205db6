/**
 * Settings objects with secret fields (delivery settings, platform integrations): reading
 * and writing fields by dotted path, the "[redacted]" marker, and class-validator errors as
 * one sentence. Splitting, sealing and redacting the secrets: src/secrets/sealed-settings.
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
