/**
 * Where a certificate's private key lives (its custody), and the one thing the signing
 * engine asks of it: a signature over the DER of a message's signed attributes.
 *
 *   - `sealed`: the key is in the database, sealed under the master key; it is opened in
 *     the relay's memory and signs with node:crypto (the only custody whose key the relay
 *     ever holds);
 *   - `pkcs11`: the key is on a token (an HSM, or SoftHSM2 in tests) reached through its
 *     PKCS#11 module; the token signs, and the key's value never leaves it;
 *   - `aws-kms`: the key is an asymmetric AWS KMS key; KMS signs a digest (Sign with
 *     MessageType DIGEST) and the key never leaves KMS.
 *
 * A remote custody signs a digest: the signer hashes the signed attributes here and sends
 * only the digest. Errors are CustodyErrors with one of CUSTODY_ERROR_CODES; `transient`
 * ones (throttling, a busy token, a network failure) are retried like a deferred delivery.
 */

export const CUSTODIES = ['sealed', 'pkcs11', 'aws-kms'] as const;
export type Custody = (typeof CUSTODIES)[number];

/** What can go wrong in a custody, as the API, webhooks and the attempt log name it. */
export const CUSTODY_ERROR_CODES = [
  /** The token or KMS refused the credentials (wrong PIN, unknown or wrong access key). */
  'custody_auth_failed',
  /** No such token or slot, no such key on it, no such KMS key (or no access to it). */
  'custody_key_not_found',
  /** The key exists but may not sign now: a disabled KMS key, one pending deletion. */
  'custody_key_disabled',
  /** The key cannot sign this way: an encryption-only key, a key spec or algorithm not allowed. */
  'custody_key_unusable',
  /** Try again later: KMS throttling, a busy token, a timeout, a network failure. */
  'custody_unavailable',
  /** The module, token or service answered something this relay does not understand. */
  'custody_failed',
] as const;
export type CustodyErrorCode = (typeof CUSTODY_ERROR_CODES)[number];

const TRANSIENT: ReadonlySet<CustodyErrorCode> = new Set(['custody_unavailable']);

export class CustodyError extends Error {
  /** Worth trying again later (KMS throttling, a busy token, a network failure). */
  readonly transient: boolean;

  constructor(
    readonly code: CustodyErrorCode,
    message: string,
    options?: { cause?: unknown; transient?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CustodyError';
    this.transient = options?.transient ?? TRANSIENT.has(code);
  }
}

/** A private key that signs without being handed over (the engine's interface). */
export type { KeySigner } from '../smime/identity';
