/**
 * The custodies a certificate's key can have, behind one service: open a key to sign with,
 * make a new key, and say how a custody is reached without its secrets.
 *
 *   - `sealed`: the certificate store opens the sealed PKCS#8 itself (key-vault); nothing here;
 *   - `pkcs11`: a PKCS#11 module the operator allowed (PKCS11_MODULES), a token by label or
 *     slot, a key by label or id, and the user PIN. One open key (with its pool of logged-in
 *     sessions) per certificate, kept until shutdown;
 *   - `aws-kms`: a KMS key by id, ARN or alias, in a region, with credentials; signing goes
 *     through the egress policy like every provider API.
 *
 * Another custody (Google Cloud KMS, Azure Key Vault) is one more case here and in
 * CUSTODIES: a settings type, `open` returning a KeySigner with the key's public key, and
 * `generate`; the rest of the relay only sees a KeySigner (docs/custody.md).
 */
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ENVIRONMENT } from '../config/tokens';
import type { Environment } from '../config/environment';
import { EgressPolicy } from '../egress/egress-policy';
import { RelayError } from '../plugin/relay-error';
import type { KeySigner } from '../smime';
import { CustodyError, type Custody } from './custody';
import { AwsKmsKeys, type AwsKmsSettings, type KmsNewKeySpec } from './aws-kms';
import {
  closeAllPkcs11,
  generatePkcs11Key,
  openPkcs11Key,
  type Pkcs11Key,
  type Pkcs11KeySpec,
} from './pkcs11';

/** The key specs a key born in the relay can have, in every custody. */
export const KEY_SPECS = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'P-256', 'P-384'] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

export interface Pkcs11Custody {
  custody: 'pkcs11';
  /** The PKCS#11 library: one of the operator's PKCS11_MODULES. */
  module: string;
  tokenLabel?: string;
  slot?: number;
  keyLabel?: string;
  /** The key's CKA_ID, hex. */
  keyId?: string;
  /** The token's user PIN (secret). */
  pin: string;
}

export interface AwsKmsCustody extends AwsKmsSettings {
  custody: 'aws-kms';
  /** A key id, key ARN or alias. */
  keyId: string;
}

/** How to reach a key that is not in this database. */
export type RemoteCustody = Pkcs11Custody | AwsKmsCustody;

/** A key opened in its custody: what signs, and its public key (DER SubjectPublicKeyInfo). */
export interface OpenedKey {
  signer: KeySigner;
  spki: Buffer;
  /** The settings as resolved (a KMS key's ARN and spec, a token key's id). */
  settings: RemoteCustody;
}

/** The custody settings without secrets, as the API shows them. */
export function custodyRef(s: RemoteCustody): Record<string, unknown> {
  const secret = new Set(['pin', 'secretAccessKey', 'sessionToken']);
  return Object.fromEntries(
    Object.entries(s).filter(([k, v]) => !secret.has(k) && v !== undefined),
  );
}

/** A CustodyError as the relay's error: its code, and the same sentence. */
export function relayErrorOf(e: unknown): unknown {
  if (!(e instanceof CustodyError)) return e;
  return new RelayError(e.code, e.message, { cause: e });
}

/** `signer`, its CustodyErrors turned into RelayErrors with the same code and words. */
function relaying(signer: KeySigner): KeySigner {
  return {
    sign: (hash, scheme, data) =>
      signer.sign(hash, scheme, data).catch((e: unknown) => {
        throw relayErrorOf(e);
      }),
  };
}

@Injectable()
export class KeyCustody implements OnModuleDestroy {
  private readonly kms: AwsKmsKeys;
  /** Open PKCS#11 keys by a hash of their settings (PIN included). */
  private readonly tokens = new Map<string, Promise<Pkcs11Key>>();

  constructor(
    @Inject(ENVIRONMENT) private readonly env: Environment,
    egress: EgressPolicy,
  ) {
    this.kms = new AwsKmsKeys(egress, { timeoutMs: env.KMS_TIMEOUT_SECONDS * 1000 });
  }

  /** Refuses settings this relay will not use: a PKCS#11 module the operator did not list. */
  check(s: RemoteCustody): void {
    if (s.custody === 'pkcs11' && !this.env.PKCS11_MODULES.includes(s.module)) {
      throw new RelayError(
        'invalid_request',
        this.env.PKCS11_MODULES.length
          ? `module must be one of the PKCS#11 libraries the operator allows: ${this.env.PKCS11_MODULES.join(', ')}`
          : 'this relay allows no PKCS#11 library: the operator lists them in PKCS11_MODULES',
      );
    }
  }

  /**
   * Open the key `s` names, to sign with. Opening throws CustodyErrors (see relayErrorOf);
   * the signer throws RelayErrors with the custody's codes, as the engine's callers expect.
   */
  async open(s: RemoteCustody): Promise<OpenedKey> {
    this.check(s);
    if (s.custody === 'pkcs11') {
      const key = await this.token(s);
      return {
        signer: relaying(key),
        spki: key.publicKeySpki(),
        settings: { ...s, keyId: key.keyId },
      };
    }
    const d = await this.kms.describe(s, s.keyId);
    return {
      signer: relaying(this.kms.signer(s, d.keyId, d.keySpec)),
      spki: d.spki,
      settings: { ...s, keyId: d.keyId },
    };
  }

  /**
   * A new key in the custody `s` names (a token; a KMS account and region), never
   * exportable; `label` names it there. Returns the settings that reach it from now on.
   */
  async generate(s: RemoteCustody, spec: KeySpec, label: string): Promise<OpenedKey> {
    this.check(s);
    if (s.custody === 'pkcs11') {
      const made = await generatePkcs11Key(s, spec as Pkcs11KeySpec, label);
      const settings: Pkcs11Custody = { ...s, keyLabel: undefined, keyId: made.keyId };
      return this.open(settings);
    }
    const made = await this.kms.createKey(s, spec as KmsNewKeySpec, label);
    return this.open({ ...s, keyId: made.keyId });
  }

  private token(s: Pkcs11Custody): Promise<Pkcs11Key> {
    const id = createHash('sha256').update(JSON.stringify(s)).digest('hex');
    let key = this.tokens.get(id);
    if (!key) {
      key = openPkcs11Key(
        {
          module: s.module,
          tokenLabel: s.tokenLabel,
          slot: s.slot,
          keyLabel: s.keyLabel,
          keyId: s.keyId,
          pin: s.pin,
        },
        { sessions: this.env.PKCS11_SESSIONS },
      );
      this.tokens.set(id, key);
      // A failure is not kept: the next message tries again.
      key.catch(() => this.tokens.delete(id));
    }
    return key;
  }

  async onModuleDestroy(): Promise<void> {
    const keys = [...this.tokens.values()];
    this.tokens.clear();
    for (const k of keys) await k.then((key) => key.close()).catch(() => undefined);
    if (keys.length) await closeAllPkcs11();
    await this.kms.close();
  }
}

export type { Custody };
