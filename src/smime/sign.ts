/**
 * signMessage(): a finished message in, the same message S/MIME-signed out (RFC 8551).
 */
import * as crypto from 'node:crypto';
import { RelayError } from '../plugin/relay-error';
import { HASHES, MICALG, type HashName, type SignatureScheme } from './algorithms';
import { checkFrom } from './address';
import { checkValidity, type SigningIdentity } from './identity';
import type { HeaderField } from './mime';
import { prepareMessage, type PreparedMessage } from './signed-entity';
import { buildSignedData } from './signed-data';
import type { SignatureCache } from './signature-cache';
import { encodeBase64 } from './transfer-encoding';
import { agreesWithDate, messageDate } from './signing-time';

export type SignatureFormat = 'detached' | 'opaque';

export interface SignOptions {
  /** Digest algorithm; default sha256 (sha384 for P-384 keys, sha512 for P-521). */
  hash?: HashName;
  /** detached (multipart/signed, the default) or opaque (application/pkcs7-mime). */
  format?: SignatureFormat;
  /** Sign RSA keys with RSASSA-PSS instead of PKCS#1 v1.5. */
  rsaPss?: boolean;
  /**
   * The moment of signing (default now): the instant the certificate must be valid at, and
   * the signingTime attribute when it agrees with the message's `Date:` (see signing-time.ts).
   */
  now?: Date;
  /**
   * Reuse signatures for byte-identical signed entities. A cached signature whose signingTime
   * is too far from this message's `Date:` is not reused.
   */
  cache?: SignatureCache;
  /**
   * prepareMessage(raw) of this very `raw`, when the caller made it already (Intake does,
   * to refuse what cannot be signed): the MIME tree is not walked again.
   */
  prepared?: PreparedMessage;
}

const identityIds = new WeakMap<SigningIdentity, string>();
function identityId(identity: SigningIdentity): string {
  let id = identityIds.get(identity);
  if (!id) identityIds.set(identity, (id = crypto.randomUUID()));
  return id;
}

/**
 * SHA-256, except that ECDSA keys get the digest that matches their curve (RFC 5753 §7.2,
 * RFC 8551 §2.1): gpgsm, for one, refuses a 256-bit digest with a P-384 key.
 */
export function defaultHash(identity: SigningIdentity): HashName {
  if (identity.keyDetail === 'P-384') return 'sha384';
  if (identity.keyDetail === 'P-521') return 'sha512';
  return 'sha256';
}

function schemeFor(identity: SigningIdentity, rsaPss: boolean | undefined): SignatureScheme {
  if (identity.keyType === 'ec') return 'ecdsa';
  return rsaPss ? 'rsa-pss' : identity.defaultScheme;
}

/**
 * The multipart/signed boundary is derived from the entity's own digest: content that
 * contained the digest of itself would be a preimage attack on the hash, so no search
 * through the entity is needed, and the same entity always gets the same boundary.
 */
const boundaryFor = (digest: Buffer): string => `----=_smime_${digest.toString('hex', 0, 16)}`;

/** `outer` comes from prepareMessage, already transit-safe (outer-headers.ts). */
function outerBlock(outer: HeaderField[], contentFields: string[]): string {
  const lines = outer.map((h) => h.raw);
  if (!outer.some((h) => h.name === 'mime-version')) lines.push('MIME-Version: 1.0');
  return [...lines, ...contentFields].join('\r\n') + '\r\n\r\n';
}

function detachedMessage(
  outer: HeaderField[],
  entity: Buffer[],
  cms: Buffer,
  hash: HashName,
  digest: Buffer,
): Buffer {
  const boundary = boundaryFor(digest);
  const head = outerBlock(outer, [
    `Content-Type: multipart/signed; protocol="application/pkcs7-signature";`,
    ` micalg=${MICALG[hash]}; boundary="${boundary}"`,
  ]);
  const tail =
    `\r\n--${boundary}\r\n` +
    'Content-Type: application/pkcs7-signature; name=smime.p7s\r\n' +
    'Content-Transfer-Encoding: base64\r\n' +
    'Content-Disposition: attachment; filename=smime.p7s\r\n' +
    'Content-Description: S/MIME Cryptographic Signature\r\n\r\n' +
    encodeBase64(cms) +
    `\r\n--${boundary}--\r\n`;
  return Buffer.concat([
    Buffer.from(`${head}This is an S/MIME signed message\r\n\r\n--${boundary}\r\n`, 'latin1'),
    ...entity,
    Buffer.from(tail, 'latin1'),
  ]);
}

function opaqueMessage(outer: HeaderField[], cms: Buffer): Buffer {
  const head = outerBlock(outer, [
    'Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename=smime.p7m',
  ]);
  return Buffer.from(head + encodeBase64(cms), 'latin1');
}

/**
 * Sign a message with an identity. Content-* fields move inside the signed entity, all
 * other header fields stay outside; the output is 7-bit CRLF with lines ≤ 998 octets.
 */
export async function signMessage(
  raw: Buffer,
  identity: SigningIdentity,
  options: SignOptions = {},
): Promise<Buffer> {
  const hash = options.hash ?? defaultHash(identity);
  if (!HASHES.includes(hash)) {
    throw new RelayError('usage', `unknown hash "${hash}"; use sha256, sha384 or sha512`);
  }
  const format = options.format ?? 'detached';
  if (format !== 'detached' && format !== 'opaque') {
    throw new RelayError('usage', `unknown format "${format}"; use detached or opaque`);
  }
  const now = options.now ?? new Date();
  checkValidity(identity, now);
  const prepared = options.prepared ?? prepareMessage(raw);
  checkFrom(prepared.outer, identity.emailAddresses);
  const content = prepared.entityParts;
  const scheme = schemeFor(identity, options.rsaPss);
  const hasher = crypto.createHash(hash);
  for (const piece of content) hasher.update(piece);
  const digest = hasher.digest();
  // signingTime only when it truthfully agrees with Date: (Thunderbird refuses a mismatch).
  const date = messageDate(prepared.outer);
  const signingTime = agreesWithDate(now, date) ? now : undefined;
  const cacheKey =
    options.cache &&
    `${identityId(identity)}|${hash}|${scheme}|${format}|${signingTime ? 't' : 'n'}|${digest.toString('base64')}`;
  const hit = cacheKey ? options.cache?.get(cacheKey) : undefined;
  let cms =
    hit && (!hit.signingTime || agreesWithDate(hit.signingTime, date)) ? hit.cms : undefined;
  if (!cms) {
    cms = await buildSignedData(content, identity, {
      hash,
      scheme,
      signingTime,
      encapsulate: format === 'opaque',
      digest,
    });
    if (cacheKey) options.cache?.set(cacheKey, { cms, signingTime });
  }
  return format === 'detached'
    ? detachedMessage(prepared.outer, content, cms, hash, digest)
    : opaqueMessage(prepared.outer, cms);
}
