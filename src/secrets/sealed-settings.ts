/**
 * Settings with secret fields (delivery settings, platform integrations, the transit-check
 * seed mailbox), as their stores keep them: the plain fields as JSON, and the secret fields
 * (dotted paths such as `imap.pass`) as one JSON object sealed by the key vault under the
 * owner's AAD. The API shows the secrets as "[redacted]"; an update that sends a secret as
 * "[redacted]" keeps the stored value. The SQL stays with each store.
 */
import { plainToInstance } from 'class-transformer';
import { deletePath, getPath, REDACTED, setPath } from '../common/settings-fields';
import { RelayError } from '../plugin/relay-error';
import { openPrivateKey, sealPrivateKey, type KeyOwner, type MasterKeyRing } from './key-vault';

export interface SealedSettingsOptions {
  /**
   * `view` of a sealed record that does not open (another master key, altered): `throw` its
   * key_unavailable error (the default), or `redact-declared`: show every declared secret
   * field as "[redacted]".
   */
  viewUnopenable?: 'throw' | 'redact-declared';
  /** `view` redacts only the declared fields the record holds (default: every path it holds). */
  viewOnlyDeclared?: boolean;
  /** Seal a record even when there are no secrets (default: no record, `sealed` is null). */
  sealEmpty?: boolean;
  /** The message when a "[redacted]" secret has no stored value to keep. */
  nothingToKeep?: (path: string) => string;
}

export interface Sealed {
  /** A plain copy of the settings without the secret fields: stored as JSON. */
  plain: Record<string, unknown>;
  /** The secret fields, sealed; null when there are none (unless `sealEmpty`). */
  sealed: Buffer | null;
  /** The secret paths that had a value. */
  secretPaths: string[];
}

const copy = (o: object): Record<string, unknown> =>
  JSON.parse(JSON.stringify(o)) as Record<string, unknown>;

/** The settings of one DTO class with its secret field paths, sealed under one key ring. */
export class SealedSettings<S extends object> {
  constructor(
    private readonly cls: new () => S,
    readonly secretFields: readonly string[],
    private readonly keys: MasterKeyRing,
    private readonly options: SealedSettingsOptions = {},
  ) {}

  /** Split the secret fields out of `settings` and seal them for `owner`. */
  seal(settings: object, owner: KeyOwner): Sealed {
    const plain = copy(settings);
    const secrets: Record<string, unknown> = {};
    for (const path of this.secretFields) {
      const v = getPath(plain, path);
      if (v !== undefined) secrets[path] = v;
      deletePath(plain, path);
    }
    const secretPaths = Object.keys(secrets);
    const sealed =
      secretPaths.length || this.options.sealEmpty
        ? sealPrivateKey(Buffer.from(JSON.stringify(secrets), 'utf8'), owner, this.keys)
        : null;
    return { plain, sealed, secretPaths };
  }

  /** The secrets of a sealed record by path ({} for none); key_unavailable if it does not open. */
  secrets(sealed: Uint8Array | null, owner: KeyOwner): Record<string, unknown> {
    if (!sealed) return {};
    const json = openPrivateKey(Buffer.from(sealed), owner, this.keys);
    try {
      return JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    } finally {
      json.fill(0);
    }
  }

  /** The stored plain fields and the opened secrets, as an instance of the DTO class again. */
  open(plain: object, sealed: Uint8Array | null, owner: KeyOwner): S {
    const settings = copy(plain);
    for (const [p, v] of Object.entries(this.secrets(sealed, owner))) setPath(settings, p, v);
    return plainToInstance(this.cls, settings) as S;
  }

  /** `plain` with the fields at `paths` (default: every declared one) shown as "[redacted]". */
  redact(plain: object, paths: readonly string[] = this.secretFields): Record<string, unknown> {
    const out = copy(plain);
    for (const p of paths) setPath(out, p, REDACTED);
    return out;
  }

  /** The stored settings as the API shows them: the secrets the record holds as "[redacted]". */
  view(plain: object, sealed: Uint8Array | null, owner: KeyOwner): Record<string, unknown> {
    let paths: string[];
    try {
      paths = Object.keys(this.secrets(sealed, owner));
    } catch (e) {
      if (this.options.viewUnopenable !== 'redact-declared') throw e;
      // Sealed under a master key this process no longer has: still show what is stored.
      return this.redact(plain, sealed ? this.secretFields : []);
    }
    if (this.options.viewOnlyDeclared) paths = paths.filter((p) => this.secretFields.includes(p));
    return this.redact(plain, paths);
  }

  /**
   * A plain copy of `update` with each secret sent as "[redacted]" replaced by the stored
   * value (from `stored`, the opened settings, loaded only when needed); `update` itself when
   * it sends none. A secret that is absent stays absent. invalid_request if there is no
   * stored value to keep.
   */
  async keepRedacted(
    update: object,
    stored: () => Promise<object | undefined> | object | undefined,
  ): Promise<Record<string, unknown>> {
    const fields = update as Record<string, unknown>;
    const kept = this.secretFields.filter((p) => getPath(fields, p) === REDACTED);
    if (!kept.length) return fields;
    const current = (await stored()) as Record<string, unknown> | undefined;
    const out = copy(update);
    for (const p of kept) {
      const v = current && getPath(current, p);
      if (v === undefined) {
        const message = this.options.nothingToKeep?.(p) ?? `${p} has no stored value to keep`;
        throw new RelayError('invalid_request', message);
      }
      setPath(out, p, v);
    }
    return out;
  }
}
