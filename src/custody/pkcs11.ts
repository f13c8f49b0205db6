/**
 * The `pkcs11` custody: a private key on a token (an HSM, a smart card, SoftHSM2 in tests)
 * reached through the token's PKCS#11 module. The relay hashes the signed attributes here
 * and the token signs the digest; the key's value never leaves the token.
 *
 * Why pkcs11js and not graphene-pk11. Both come from PeculiarVentures, and graphene-pk11 is
 * an object-oriented layer over pkcs11js. Checked in node_modules/pkcs11js, with `npm view`
 * and in the graphene-pk11 2.3.6 tarball:
 *   - pkcs11js 2.1.7 (published 2026-08-24, the latest) is an N-API addon (since 2.0) that
 *     exposes the Cryptoki 2.40 functions; C_Sign, C_GenerateKeyPair and the other long calls
 *     take a callback (run on libuv's thread pool) or have a Promise twin (C_SignAsync, …),
 *     and every CK_RV is thrown as a Pkcs11Error whose message is the CKR_ name;
 *   - graphene-pk11 2.3.6 (published 2024-12-11, the latest) depends on pkcs11js ^2.1.6 and
 *     tslib; its Sign.once(data, cb) simply calls pkcs11js's C_Sign with the callback (no
 *     Promise forms), and it adds classes for modules, slots, sessions and objects.
 * A signer needs about fifteen Cryptoki calls, and this file has to control every session,
 * login and object handle itself (the session pool, reopening stale sessions, the error
 * mapping); graphene would add a dependency and a layer to see through, and nothing needed.
 *
 * What this file does:
 *   - one loaded, initialised PKCS11 instance per module path per process (C_Initialize
 *     once, with CKF_OS_LOCKING_OK because the asynchronous calls come from several threads;
 *     C_Finalize in closeAllPkcs11()). pkcs11js is required lazily, so a relay that never
 *     uses a token never loads the native addon;
 *   - Pkcs11Key: finds the token and the key, logs in as the user, builds the SubjectPublicKeyInfo
 *     from the public key's attributes, and signs through a small pool of logged-in sessions
 *     (one operation per session at a time; Cryptoki sessions are not re-entrant);
 *   - generatePkcs11Key: a key pair generated on the token, never extractable;
 *   - every failure becomes a CustodyError whose message names the token and key, never the PIN.
 *
 * PKCS#11 facts this code relies on: a login belongs to the application and the token, not
 * to one session (a second C_Login answers CKR_USER_ALREADY_LOGGED_IN, and C_Logout logs
 * every session out); handles of private objects may change after a logout (SoftHSM2 answers
 * CKR_OBJECT_HANDLE_INVALID for the old ones); an operation that fails after C_SignInit may
 * stay active on its session, so a session that saw an error is closed, not reused.
 */
import * as crypto from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { endianness } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import type { PKCS11, Mechanism, Template } from 'pkcs11js';
import { HASH_LENGTH, HASH_OID, type HashName, type SignatureScheme } from '../smime/algorithms';
import { TAG, decodeOid, nullValue, octets, oid, seq, tlv } from '../smime/der';
import { CustodyError, type CustodyErrorCode, type KeySigner } from './custody';

type Pkcs11Lib = typeof import('pkcs11js');

/** Where the key is: the module, the token (by label or slot id) and the key (by label or id). */
export interface Pkcs11Settings {
  /** Path of the token's PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  module: string;
  /** The token's label (CKA_LABEL of the token, without the blank padding). */
  tokenLabel?: string;
  /** The slot id, when no token label is given. */
  slot?: number;
  /** The private key's CKA_LABEL. */
  keyLabel?: string;
  /** The private key's CKA_ID in hex. */
  keyId?: string;
  /** The user PIN (CKU_USER). Never logged, never in an error message. */
  pin: string;
}

/** What generatePkcs11Key needs: the token, not a key. */
export type Pkcs11TokenSettings = Omit<Pkcs11Settings, 'keyLabel' | 'keyId'>;

export interface Pkcs11KeyOptions {
  /** Logged-in sessions kept for signing, so that this many signatures run at once (default 4). */
  sessions?: number;
}

export const PKCS11_KEY_SPECS = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'P-256', 'P-384'] as const;
export type Pkcs11KeySpec = (typeof PKCS11_KEY_SPECS)[number];

export const DEFAULT_PKCS11_SESSIONS = 4;
const MAX_PKCS11_SESSIONS = 64;

// ---------------------------------------------------------------------------------------------
// Loading pkcs11js and the modules

let pkcs11js: Pkcs11Lib | undefined;

/** pkcs11js, required on first use only: its native addon stays unloaded otherwise. */
function loadPkcs11js(): Pkcs11Lib {
  if (!pkcs11js) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      pkcs11js = require('pkcs11js') as Pkcs11Lib;
    } catch (err) {
      throw new CustodyError(
        'custody_failed',
        `The pkcs11js native module could not be loaded (${oneLine(err)}), so no PKCS#11 token can be used; reinstall the relay's dependencies so that pkcs11js builds its addon.`,
        { cause: err },
      );
    }
  }
  return pkcs11js;
}

/** What the process knows about one token it is logged in to. */
interface TokenLogin {
  /** HMAC of the PIN that logged in, to refuse another PIN while the login is shared. */
  pinDigest: Buffer;
  /** Open Pkcs11Keys (and key generations) using this login; the last one logs out. */
  users: number;
}

interface LoadedModule {
  path: string;
  lib: Pkcs11Lib;
  pkcs11: PKCS11;
  initialised: boolean;
  /** False when something else in this process had initialised the library already. */
  ownsInitialisation: boolean;
  /** By slot id. */
  logins: Map<string, TokenLogin>;
  keys: Set<Pkcs11Key>;
}

/**
 * By real path of the library. A library is loaded once and never unloaded (dlclose of a
 * library that loaded its own OpenSSL is not safe); closeAllPkcs11 finalises it, and the next
 * use initialises it again (SoftHSM2 then reads SOFTHSM2_CONF again).
 */
const modules = new Map<string, LoadedModule>();

/** Key of the HMAC that stands for a PIN in memory when two logins are compared. */
const PIN_HMAC_KEY = crypto.randomBytes(32);
const pinDigest = (pin: string): Buffer =>
  crypto.createHmac('sha256', PIN_HMAC_KEY).update(pin, 'utf8').digest();

/**
 * The process-wide initialised PKCS11 instance for a module path (loaded and initialised on
 * first use). Exported for tests and tools that read a token's objects; signing code goes
 * through openPkcs11Key.
 */
export function pkcs11Module(modulePath: string): PKCS11 {
  return loadModule(modulePath).pkcs11;
}

function loadModule(modulePath: string): LoadedModule {
  const absolute = resolvePath(modulePath);
  if (!existsSync(absolute)) {
    throw new CustodyError(
      'custody_failed',
      `The PKCS#11 module ${absolute} does not exist; check the module path of the pkcs11 custody.`,
    );
  }
  const real = realpathSync(absolute);
  let m = modules.get(real);
  if (!m) {
    const lib = loadPkcs11js();
    const pkcs11 = new lib.PKCS11();
    try {
      pkcs11.load(real);
    } catch (err) {
      throw new CustodyError(
        'custody_failed',
        `The PKCS#11 module ${absolute} could not be loaded (${oneLine(err)}).`,
        { cause: err },
      );
    }
    m = {
      path: absolute,
      lib,
      pkcs11,
      initialised: false,
      ownsInitialisation: false,
      logins: new Map(),
      keys: new Set(),
    };
    modules.set(real, m);
  }
  if (!m.initialised) {
    try {
      // The asynchronous calls run on libuv's worker threads: the module must lock. With no
      // arguments (NULL), a module may assume one thread at a time; SoftHSM2 then disables
      // its mutexes.
      m.pkcs11.C_Initialize({ flags: m.lib.CKF_OS_LOCKING_OK });
      m.ownsInitialisation = true;
    } catch (err) {
      if (ckrName(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        const why = ckrName(err) ?? oneLine(err);
        throw new CustodyError(
          ckrCode(ckrName(err)) === 'custody_unavailable'
            ? 'custody_unavailable'
            : 'custody_failed',
          `The PKCS#11 module ${absolute} could not be initialised (${why}); for SoftHSM2, check SOFTHSM2_CONF and its token directory.`,
          { cause: err },
        );
      }
      m.ownsInitialisation = false; // someone else's initialisation: not ours to finalise
    }
    m.initialised = true;
  }
  return m;
}

/**
 * Close every Pkcs11Key (after the signatures in progress), log out and C_Finalize every
 * module this process initialised. For shutdown, and for tests between SoftHSM2
 * configurations: SoftHSM2 reads SOFTHSM2_CONF only in C_Initialize.
 */
export async function closeAllPkcs11(): Promise<void> {
  for (const m of modules.values()) {
    await Promise.allSettled([...m.keys].map((k) => k.close()));
    if (m.initialised && m.ownsInitialisation) {
      try {
        m.pkcs11.C_Finalize();
      } catch {
        // finalising is best effort: the process is closing the module either way
      }
    }
    m.initialised = false;
    m.ownsInitialisation = false;
    m.logins.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The CKR_ name of a pkcs11js Pkcs11Error (its message is exactly that name), if it is one. */
function ckrName(err: unknown): string | undefined {
  if (err instanceof Error && err.name === 'Pkcs11Error' && /^CKR_[A-Z0-9_]+$/.test(err.message)) {
    return err.message;
  }
  return undefined;
}

const AUTH_FAILED = new Set([
  'CKR_PIN_INCORRECT',
  'CKR_PIN_LOCKED',
  'CKR_PIN_LEN_RANGE',
  'CKR_PIN_INVALID',
  'CKR_PIN_EXPIRED',
  'CKR_USER_PIN_NOT_INITIALIZED',
  'CKR_USER_ANOTHER_ALREADY_LOGGED_IN',
]);
const KEY_NOT_FOUND = new Set([
  'CKR_SLOT_ID_INVALID',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_OBJECT_HANDLE_INVALID',
]);
const KEY_UNUSABLE = new Set([
  'CKR_KEY_FUNCTION_NOT_PERMITTED',
  'CKR_KEY_TYPE_INCONSISTENT',
  'CKR_KEY_SIZE_RANGE',
  'CKR_MECHANISM_INVALID',
  'CKR_MECHANISM_PARAM_INVALID',
  'CKR_DATA_LEN_RANGE', // a DigestInfo too long for the modulus
  'CKR_TEMPLATE_INCONSISTENT',
  'CKR_TEMPLATE_INCOMPLETE',
  'CKR_ATTRIBUTE_VALUE_INVALID',
  'CKR_DOMAIN_PARAMS_INVALID',
  'CKR_CURVE_NOT_SUPPORTED',
]);
/**
 * Worth trying again later. PKCS#11 2.40 has no CKR_DEVICE_BUSY; a busy HSM answers
 * CKR_SESSION_COUNT, CKR_DEVICE_MEMORY or CKR_FUNCTION_FAILED.
 */
const UNAVAILABLE = new Set([
  'CKR_DEVICE_BUSY',
  'CKR_SESSION_COUNT',
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_MEMORY',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_FUNCTION_FAILED',
  'CKR_FUNCTION_CANCELED',
  'CKR_HOST_MEMORY',
  'CKR_SESSION_CLOSED',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_USER_NOT_LOGGED_IN',
]);
/** A session or handle that went stale (token re-inserted, logged out elsewhere): reopen once. */
const STALE = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
]);

function ckrCode(name: string | undefined): CustodyErrorCode {
  if (name === undefined) return 'custody_failed';
  if (AUTH_FAILED.has(name)) return 'custody_auth_failed';
  if (KEY_NOT_FOUND.has(name)) return 'custody_key_not_found';
  if (KEY_UNUSABLE.has(name)) return 'custody_key_unusable';
  if (UNAVAILABLE.has(name)) return 'custody_unavailable';
  return 'custody_failed';
}

/**
 * The CustodyError for an error thrown by pkcs11js while doing `action` (a verb phrase such
 * as "sign with") on `subject` (e.g. `key "news" on token "relay"`). Exported for tests.
 */
export function pkcs11CustodyError(err: unknown, action: string, subject: string): CustodyError {
  if (err instanceof CustodyError) return err;
  const name = ckrName(err);
  const code = ckrCode(name);
  const vendorCode = (err as { code?: unknown }).code;
  const why =
    name === 'CKR_VENDOR_DEFINED' && typeof vendorCode === 'number'
      ? `${name} 0x${vendorCode.toString(16)}` // a vendor's own code: worth quoting to its support
      : (name ?? oneLine(err));
  const message: Record<CustodyErrorCode, string> = {
    custody_auth_failed: `The token refused the PIN while trying to ${action} ${subject} (${why}).`,
    custody_key_not_found: `Could not ${action} ${subject}: the token or key was not found (${why}).`,
    custody_key_disabled: `Could not ${action} ${subject}: the key is disabled (${why}).`,
    custody_key_unusable: `Could not ${action} ${subject}: the key cannot be used this way (${why}).`,
    custody_unavailable: `Could not ${action} ${subject} now: the token is unavailable (${why}).`,
    custody_failed: `Could not ${action} ${subject}: the PKCS#11 module failed (${why}).`,
  };
  return new CustodyError(code, message[code], { cause: err });
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].trim() || 'unknown error';
}

// ---------------------------------------------------------------------------------------------
// Small readers and encoders

/** A CK_ULONG attribute value (native size and byte order). */
function readUlong(value: Buffer): number {
  if (value.length === 8) {
    return Number(endianness() === 'LE' ? value.readBigUInt64LE() : value.readBigUInt64BE());
  }
  return endianness() === 'LE' ? value.readUInt32LE() : value.readUInt32BE();
}

const readBool = (value: Buffer): boolean => value.length > 0 && value[0] !== 0;

/** A slot handle as the number operators see (softhsm2-util, pkcs11-tool). */
const slotNumber = (handle: Buffer): number => readUlong(handle);

const b64url = (b: Buffer): string => b.toString('base64url');

/** An unsigned big-endian integer without leading zero bytes (JWK wants the minimal form). */
function unsigned(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

interface Curve {
  name: 'P-256' | 'P-384' | 'P-521';
  oid: string;
  /** Bytes of one coordinate, and of r and s in a signature. */
  size: number;
}
const CURVES: readonly Curve[] = [
  { name: 'P-256', oid: '1.2.840.10045.3.1.7', size: 32 },
  { name: 'P-384', oid: '1.3.132.0.34', size: 48 },
  { name: 'P-521', oid: '1.3.132.0.35', size: 66 },
];

/** The named curve of a CKA_EC_PARAMS value (a DER OBJECT IDENTIFIER). */
function curveOf(ecParams: Buffer): Curve | undefined {
  if (ecParams.length < 2 || ecParams[0] !== TAG.OID || ecParams[1] !== ecParams.length - 2) {
    return undefined;
  }
  const dotted = decodeOid(ecParams.subarray(2));
  return CURVES.find((c) => c.oid === dotted);
}

/**
 * The uncompressed point of a CKA_EC_POINT value. PKCS#11 says it is a DER OCTET STRING
 * (SoftHSM2 does that); some modules return the raw point. Told apart by length.
 */
function ecPoint(value: Buffer, curve: Curve): Buffer | undefined {
  const raw = 1 + 2 * curve.size;
  if (value.length === raw && value[0] === 0x04) return value;
  if (value[0] === TAG.OCTET_STRING) {
    const long = value[1] === 0x81; // P-521's 133-byte point needs a long length
    const start = long ? 3 : 2;
    const len = long ? value[2] : value[1];
    if (len === raw && value.length === start + raw && value[start] === 0x04) {
      return value.subarray(start);
    }
  }
  return undefined;
}

function rsaSpki(modulus: Buffer, exponent: Buffer): Buffer {
  const jwk = { kty: 'RSA', n: b64url(unsigned(modulus)), e: b64url(unsigned(exponent)) };
  return crypto
    .createPublicKey({ key: jwk, format: 'jwk' })
    .export({ type: 'spki', format: 'der' });
}

function ecSpki(curve: Curve, point: Buffer): Buffer {
  const x = point.subarray(1, 1 + curve.size);
  const y = point.subarray(1 + curve.size);
  const jwk = { kty: 'EC', crv: curve.name, x: b64url(x), y: b64url(y) };
  return crypto
    .createPublicKey({ key: jwk, format: 'jwk' })
    .export({ type: 'spki', format: 'der' });
}

/** The DER DigestInfo that CKM_RSA_PKCS signs for PKCS#1 v1.5 (RFC 8017 §9.2, NULL parameters). */
function digestInfo(hash: HashName, digest: Buffer): Buffer {
  return seq(seq(oid(HASH_OID[hash]), nullValue()), octets(digest));
}

/** A DER INTEGER of an unsigned big-endian value: minimal, with a 0x00 before a high bit. */
function derUnsignedInteger(value: Buffer): Buffer {
  let v = unsigned(value);
  if (v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(TAG.INTEGER, v);
}

/**
 * The DER ECDSA-Sig-Value (RFC 5480 §2.2: SEQUENCE { r INTEGER, s INTEGER }) of the raw r||s
 * that CKM_ECDSA returns (each half `size` bytes, big-endian). Exported for tests.
 */
export function ecdsaRawToDer(raw: Buffer, size: number): Buffer {
  if (raw.length !== 2 * size) {
    throw new CustodyError(
      'custody_failed',
      `The token returned an ECDSA signature of ${raw.length} bytes where ${2 * size} were expected.`,
    );
  }
  return seq(derUnsignedInteger(raw.subarray(0, size)), derUnsignedInteger(raw.subarray(size)));
}

// ---------------------------------------------------------------------------------------------
// Tokens, logins and objects

interface Slot {
  handle: Buffer;
  id: number;
  /** The token's label, blank padding removed. */
  label: string;
}

function tokenDescription(settings: Pkcs11TokenSettings): string {
  return settings.tokenLabel !== undefined
    ? `token ${JSON.stringify(settings.tokenLabel)}`
    : `token in slot ${settings.slot}`;
}

function keyDescription(settings: Pkcs11Settings): string {
  const key =
    settings.keyLabel !== undefined
      ? `key ${JSON.stringify(settings.keyLabel)}`
      : `key id ${settings.keyId}`;
  return `${key} on ${tokenDescription(settings)}`;
}

function checkTokenSettings(settings: Pkcs11TokenSettings): void {
  if (!settings || typeof settings.module !== 'string' || settings.module === '') {
    throw new CustodyError('custody_failed', 'The pkcs11 custody needs the path of its module.');
  }
  if (settings.tokenLabel === undefined && settings.slot === undefined) {
    throw new CustodyError(
      'custody_key_not_found',
      'The pkcs11 custody needs a token label or a slot id to find its token.',
    );
  }
  if (typeof settings.pin !== 'string') {
    throw new CustodyError('custody_auth_failed', 'The pkcs11 custody needs the token’s user PIN.');
  }
}

/** The initialised token with that label (and slot id, when both are given). */
function findSlot(m: LoadedModule, settings: Pkcs11TokenSettings): Slot {
  const where = tokenDescription(settings);
  let handles: Buffer[];
  try {
    handles = m.pkcs11.C_GetSlotList(true);
  } catch (err) {
    throw pkcs11CustodyError(err, 'list the slots for', where);
  }
  const found: Slot[] = [];
  for (const handle of handles) {
    const id = slotNumber(handle);
    if (settings.slot !== undefined && id !== settings.slot) continue;
    let info;
    try {
      info = m.pkcs11.C_GetTokenInfo(handle);
    } catch {
      continue; // a token removed while listing, or a reader without a card
    }
    if ((info.flags & m.lib.CKF_TOKEN_INITIALIZED) === 0) continue;
    const label = info.label.replace(/[ \0]+$/, '');
    if (settings.tokenLabel !== undefined && label !== settings.tokenLabel) continue;
    found.push({ handle, id, label });
  }
  if (found.length === 0) {
    throw new CustodyError(
      'custody_key_not_found',
      `No initialised ${where} is in the PKCS#11 module ${m.path}.`,
    );
  }
  if (found.length > 1) {
    throw new CustodyError(
      'custody_key_not_found',
      `The PKCS#11 module ${m.path} has ${found.length} tokens labelled ${JSON.stringify(settings.tokenLabel)}; give the slot id as well.`,
    );
  }
  return found[0];
}

/**
 * Log the user in on `session`. The login is shared by every session of this process on the
 * token, so a second C_Login answers CKR_USER_ALREADY_LOGGED_IN without looking at the PIN;
 * then the PIN is compared with the one that logged in, so a wrong PIN is refused all the same.
 */
function login(m: LoadedModule, slot: Slot, session: Buffer, pin: string): void {
  const digest = pinDigest(pin);
  const key = String(slot.id);
  const known = m.logins.get(key);
  try {
    m.pkcs11.C_Login(session, m.lib.CKU_USER, pin);
  } catch (err) {
    if (ckrName(err) !== 'CKR_USER_ALREADY_LOGGED_IN') throw err;
    if (known && !crypto.timingSafeEqual(known.pinDigest, digest)) {
      throw new CustodyError(
        'custody_auth_failed',
        `The PIN given for token ${JSON.stringify(slot.label)} is not the one this relay is logged in to it with.`,
      );
    }
    // Logged in by this process already: with this PIN, or by code outside this file.
    if (!known) m.logins.set(key, { pinDigest: digest, users: 0 });
    return;
  }
  // A fresh login: the token has checked this PIN.
  if (known) known.pinDigest = digest;
  else m.logins.set(key, { pinDigest: digest, users: 0 });
}

/** Count one more user of the token's login. */
function holdLogin(m: LoadedModule, slot: Slot, pin: string): void {
  const key = String(slot.id);
  const known = m.logins.get(key);
  if (known) known.users++;
  else m.logins.set(key, { pinDigest: pinDigest(pin), users: 1 });
}

/** Count one user fewer; the last one logs the token out (through `session`, still open). */
function releaseLogin(m: LoadedModule, slot: Slot, session: Buffer | undefined): void {
  const key = String(slot.id);
  const known = m.logins.get(key);
  if (!known) return;
  known.users--;
  if (known.users > 0) return;
  m.logins.delete(key);
  if (session && m.initialised) {
    try {
      m.pkcs11.C_Logout(session);
    } catch {
      // already logged out (or the session is gone): nothing to undo
    }
  }
}

function findObjects(m: LoadedModule, session: Buffer, template: Template): Buffer[] {
  m.pkcs11.C_FindObjectsInit(session, template);
  try {
    return m.pkcs11.C_FindObjects(session, 16);
  } finally {
    m.pkcs11.C_FindObjectsFinal(session);
  }
}

/** One attribute's value, or undefined when the object does not have it or hides it. */
function attribute(
  m: LoadedModule,
  session: Buffer,
  object: Buffer,
  type: number,
): Buffer | undefined {
  try {
    const [a] = m.pkcs11.C_GetAttributeValue(session, object, [{ type }]);
    return a.value.length > 0 ? a.value : undefined;
  } catch (err) {
    const name = ckrName(err);
    if (name === 'CKR_ATTRIBUTE_TYPE_INVALID' || name === 'CKR_ATTRIBUTE_SENSITIVE') {
      return undefined;
    }
    throw err;
  }
}

function closeSessionQuietly(m: LoadedModule, session: Buffer): void {
  if (!m.initialised) return;
  try {
    m.pkcs11.C_CloseSession(session);
  } catch {
    // an invalid handle is what we wanted to get rid of
  }
}

/** What signing needs to know about a key, read once when it is opened. */
interface KeyFacts {
  type: 'RSA' | 'EC';
  label: string;
  id: Buffer;
  spki: Buffer;
  /** Bytes of a signature from the token: the modulus length, or 2 × the curve size. */
  signatureLength: number;
  curve?: Curve;
  modulusBits?: number;
}

/** The SubjectPublicKeyInfo of a key pair, from the public key or from the private key object. */
function publicKeyFacts(
  m: LoadedModule,
  session: Buffer,
  privateKey: Buffer,
  type: 'RSA' | 'EC',
  label: string,
  id: Buffer,
  where: string,
): Pick<KeyFacts, 'spki' | 'signatureLength' | 'curve' | 'modulusBits'> {
  const lib = m.lib;
  // The public key of a pair shares the private key's CKA_ID (PKCS#11 §4.7, and what
  // softhsm2-util --import and pkcs11-tool do); without an id, its label.
  const template: Template = [
    { type: lib.CKA_CLASS, value: lib.CKO_PUBLIC_KEY },
    { type: lib.CKA_KEY_TYPE, value: type === 'RSA' ? lib.CKK_RSA : lib.CKK_EC },
    id.length > 0 ? { type: lib.CKA_ID, value: id } : { type: lib.CKA_LABEL, value: label },
  ];
  let publics = findObjects(m, session, template);
  if (publics.length > 1 && id.length > 0) {
    publics = publics.filter(
      (p) => attribute(m, session, p, lib.CKA_LABEL)?.toString('utf8') === label,
    );
  }
  const publicKey = publics.length === 1 ? publics[0] : undefined;

  if (type === 'RSA') {
    const privateModulus = attribute(m, session, privateKey, lib.CKA_MODULUS);
    const modulus =
      (publicKey && attribute(m, session, publicKey, lib.CKA_MODULUS)) ?? privateModulus;
    const exponent =
      (publicKey && attribute(m, session, publicKey, lib.CKA_PUBLIC_EXPONENT)) ??
      attribute(m, session, privateKey, lib.CKA_PUBLIC_EXPONENT);
    if (!modulus || !exponent) {
      throw new CustodyError(
        'custody_key_unusable',
        `The ${where} has no readable modulus and public exponent, so its public key is unknown.`,
      );
    }
    if (privateModulus && !unsigned(privateModulus).equals(unsigned(modulus))) {
      throw new CustodyError(
        'custody_key_unusable',
        `The public key that shares the id of the ${where} belongs to another key pair.`,
      );
    }
    const n = unsigned(modulus);
    return { spki: rsaSpki(n, exponent), signatureLength: n.length, modulusBits: bitLength(n) };
  }

  const params =
    (publicKey && attribute(m, session, publicKey, lib.CKA_EC_PARAMS)) ??
    attribute(m, session, privateKey, lib.CKA_EC_PARAMS);
  const curve = params && curveOf(params);
  if (!curve) {
    throw new CustodyError(
      'custody_key_unusable',
      `The ${where} is on an elliptic curve this relay does not sign with (P-256, P-384 and P-521 are supported).`,
    );
  }
  const rawPoint = publicKey && attribute(m, session, publicKey, lib.CKA_EC_POINT);
  const point = rawPoint && ecPoint(rawPoint, curve);
  if (point) return { spki: ecSpki(curve, point), signatureLength: 2 * curve.size, curve };
  // PKCS#11 3.0 keeps the SubjectPublicKeyInfo on the private key itself.
  const info = attribute(m, session, privateKey, CKA_PUBLIC_KEY_INFO);
  if (info) {
    const spki = crypto.createPublicKey({ key: info, format: 'der', type: 'spki' });
    return {
      spki: spki.export({ type: 'spki', format: 'der' }),
      signatureLength: 2 * curve.size,
      curve,
    };
  }
  throw new CustodyError(
    'custody_key_unusable',
    `The ${where} has no public key object with its id, so its public key is unknown.`,
  );
}

/** CKA_PUBLIC_KEY_INFO (PKCS#11 3.0), not among pkcs11js's 2.40 constants. */
const CKA_PUBLIC_KEY_INFO = 0x129;

function bitLength(n: Buffer): number {
  return n.length === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(n[0]));
}

// ---------------------------------------------------------------------------------------------
// The key

/** How one signature is asked of the token. */
interface SignPlan {
  mechanism: Mechanism;
  /** Whether the token gets the message (a hash-and-sign mechanism) rather than a digest. */
  wholeMessage: boolean;
  wrap?: (digest: Buffer) => Buffer;
}

interface Waiter {
  resolve: (session: Buffer | null) => void;
  reject: (err: unknown) => void;
}

/**
 * A private key on a PKCS#11 token. Open one with openPkcs11Key; close it with close() (or
 * closeAllPkcs11 at shutdown).
 */
export class Pkcs11Key implements KeySigner {
  readonly keyType: 'RSA' | 'EC';
  /** The key's CKA_LABEL and CKA_ID (hex), as found on the token. */
  readonly label: string;
  readonly keyId: string;
  readonly tokenLabel: string;
  readonly curve?: 'P-256' | 'P-384' | 'P-521';
  readonly modulusBits?: number;
  /** Sessions this key may keep open at once. */
  readonly poolSize: number;

  private readonly spki: Buffer;
  private readonly signatureLength: number;
  private readonly mechanisms: ReadonlySet<number> | undefined;
  private readonly where: string;
  private keyHandle: Buffer | undefined;
  private readonly idle: Buffer[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  /** Sessions open or being opened (idle and busy). */
  private live = 0;
  private closed = false;

  private constructor(
    private readonly module: LoadedModule,
    private readonly settings: Pkcs11Settings,
    private slot: Slot,
    facts: KeyFacts,
    keyHandle: Buffer,
    firstSession: Buffer,
    poolSize: number,
  ) {
    this.keyType = facts.type;
    this.label = facts.label;
    this.keyId = facts.id.toString('hex');
    this.tokenLabel = slot.label;
    this.curve = facts.curve?.name;
    this.modulusBits = facts.modulusBits;
    this.spki = facts.spki;
    this.signatureLength = facts.signatureLength;
    this.where = keyDescription(settings);
    this.keyHandle = keyHandle;
    this.poolSize = poolSize;
    this.idle.push(firstSession);
    this.live = 1;
    let mechanisms: Set<number> | undefined;
    try {
      mechanisms = new Set(module.pkcs11.C_GetMechanismList(slot.handle));
    } catch {
      mechanisms = undefined; // unknown: try the usual mechanisms and let the token answer
    }
    this.mechanisms = mechanisms;
  }

  /** Find the token and the key, log in, and read the public key. */
  static async open(settings: Pkcs11Settings, options: Pkcs11KeyOptions = {}): Promise<Pkcs11Key> {
    checkTokenSettings(settings);
    if (settings.keyLabel === undefined && settings.keyId === undefined) {
      throw new CustodyError(
        'custody_key_not_found',
        `The pkcs11 custody for ${tokenDescription(settings)} needs a key label or a key id.`,
      );
    }
    if (settings.keyId !== undefined && !/^(?:[0-9a-fA-F]{2})+$/.test(settings.keyId)) {
      throw new CustodyError(
        'custody_key_not_found',
        `The key id of the pkcs11 custody for ${tokenDescription(settings)} must be hex (CKA_ID).`,
      );
    }
    const poolSize = options.sessions ?? DEFAULT_PKCS11_SESSIONS;
    if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > MAX_PKCS11_SESSIONS) {
      throw new RangeError(`sessions must be an integer from 1 to ${MAX_PKCS11_SESSIONS}`);
    }
    const m = loadModule(settings.module);
    const where = keyDescription(settings);
    const slot = findSlot(m, settings);
    let session: Buffer | undefined;
    let held = false;
    try {
      session = m.pkcs11.C_OpenSession(slot.handle, m.lib.CKF_SERIAL_SESSION);
      login(m, slot, session, settings.pin);
      holdLogin(m, slot, settings.pin);
      held = true;
      const handle = findPrivateKey(m, session, settings, where);
      const facts = readKeyFacts(m, session, handle, where);
      // Never more sessions than the token allows one application (0: no limit given).
      const max = m.pkcs11.C_GetTokenInfo(slot.handle).maxSessionCount;
      const size = max > 0 && max < poolSize ? max : poolSize;
      const key = new Pkcs11Key(m, settings, slot, facts, handle, session, size);
      m.keys.add(key);
      return key;
    } catch (err) {
      if (held) releaseLogin(m, slot, session);
      if (session) closeSessionQuietly(m, session);
      throw pkcs11CustodyError(err, 'open', where);
    }
  }

  /** The DER SubjectPublicKeyInfo of the key pair. */
  publicKeySpki(): Buffer {
    return Buffer.from(this.spki);
  }

  /** Sessions open now (idle and busy). */
  get openSessions(): number {
    return this.live;
  }

  async sign(hash: HashName, scheme: SignatureScheme, data: Buffer): Promise<Buffer> {
    const run = this.signOnToken(hash, scheme, data);
    this.inflight.add(run);
    const forget = () => this.inflight.delete(run);
    run.then(forget, forget);
    return run;
  }

  private async signOnToken(
    hash: HashName,
    scheme: SignatureScheme,
    data: Buffer,
  ): Promise<Buffer> {
    const plan = this.plan(hash, scheme);
    const digest = crypto.createHash(hash).update(data).digest();
    const input = plan.wholeMessage ? data : plan.wrap ? plan.wrap(digest) : digest;
    const signature = await this.withSession('sign with', (session, key) => {
      this.module.pkcs11.C_SignInit(session, plan.mechanism, key);
      const out = Buffer.alloc(this.signatureLength);
      // The callback form runs C_Sign on libuv's thread pool: the event loop goes on.
      return new Promise<Buffer>((resolve, reject) => {
        this.module.pkcs11.C_Sign(session, input, out, (err, sig) =>
          err ? reject(err) : resolve(Buffer.from(sig)),
        );
      });
    });
    return this.keyType === 'EC' ? ecdsaRawToDer(signature, this.signatureLength / 2) : signature;
  }

  /** The mechanism for a scheme and hash, or custody_key_unusable when this key cannot. */
  private plan(hash: HashName, scheme: SignatureScheme): SignPlan {
    const lib = this.module.lib;
    const unusable = (why: string) =>
      new CustodyError('custody_key_unusable', `The ${this.where} cannot sign ${why}.`);
    if (!(hash in HASH_LENGTH)) throw unusable(`with the hash ${String(hash)}`);
    const offered = (mechanism: number) => !this.mechanisms || this.mechanisms.has(mechanism);
    if (scheme === 'ecdsa') {
      if (this.keyType !== 'EC') throw unusable('ECDSA signatures: it is an RSA key');
      return { mechanism: { mechanism: lib.CKM_ECDSA }, wholeMessage: false };
    }
    if (this.keyType !== 'RSA') throw unusable(`${scheme} signatures: it is an EC key`);
    if (scheme === 'rsa-pkcs1') {
      return {
        mechanism: { mechanism: lib.CKM_RSA_PKCS },
        wholeMessage: false,
        wrap: (digest) => digestInfo(hash, digest),
      };
    }
    if (scheme !== 'rsa-pss') throw unusable(`${String(scheme)} signatures`);
    const pss = PSS[hash];
    const parameter = {
      type: lib.CK_PARAMS_RSA_PSS,
      hashAlg: lib[pss.hashAlg],
      mgf: lib[pss.mgf],
      saltLen: HASH_LENGTH[hash],
    };
    // CKM_RSA_PKCS_PSS signs a digest. Not every token offers it (SoftHSM2's current source
    // lists it only when built WITH_RAW_PSS; Debian's 2.6.1 has it): then a hash-and-sign
    // mechanism gets the message itself, which is only the few hundred bytes of the signed
    // attributes.
    if (offered(lib.CKM_RSA_PKCS_PSS)) {
      return { mechanism: { mechanism: lib.CKM_RSA_PKCS_PSS, parameter }, wholeMessage: false };
    }
    if (offered(lib[pss.hashAndSign])) {
      return { mechanism: { mechanism: lib[pss.hashAndSign], parameter }, wholeMessage: true };
    }
    throw unusable('RSA-PSS signatures: the token offers no PSS mechanism');
  }

  /**
   * Run `op` on a logged-in session of the pool. A session that saw an error is closed (an
   * operation may still be active on it). When the session or key handle went stale (the
   * token was logged out, re-inserted or its sessions closed), the idle sessions are dropped,
   * the key is looked up again, and `op` runs once more on a new session.
   */
  private async withSession<T>(
    action: string,
    op: (session: Buffer, key: Buffer) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let session: Buffer | undefined;
      try {
        session = await this.acquire();
        const key = this.keyHandle ?? this.findKey(session);
        const result = await op(session, key);
        this.release(session);
        return result;
      } catch (err) {
        if (session) this.discard(session);
        if (err instanceof CustodyError) throw err;
        if (attempt === 1 && STALE.has(ckrName(err) ?? '') && !this.closed) {
          this.recover();
          continue;
        }
        throw pkcs11CustodyError(err, action, this.where);
      }
    }
  }

  private findKey(session: Buffer): Buffer {
    const handle = findPrivateKey(this.module, session, this.settings, this.where);
    this.keyHandle = handle;
    return handle;
  }

  /** After a stale handle: drop the idle sessions, forget the key handle, find the slot again. */
  private recover(): void {
    for (const s of this.idle.splice(0)) {
      closeSessionQuietly(this.module, s);
      this.freeSlot();
    }
    this.keyHandle = undefined;
    if (this.settings.tokenLabel !== undefined) {
      try {
        this.slot = findSlot(this.module, this.settings);
      } catch {
        // keep the old slot: opening a session on it will say what is wrong
      }
    }
  }

  private closedError(): CustodyError {
    return new CustodyError(
      'custody_unavailable',
      `The ${this.where} was closed (the relay is shutting down or the key was replaced).`,
    );
  }

  /** An idle session, a new one while the pool has room, or the next one released. */
  private async acquire(): Promise<Buffer> {
    if (this.closed || !this.module.initialised) throw this.closedError();
    const idle = this.idle.pop();
    if (idle) return idle;
    if (this.live < this.poolSize) {
      this.live++;
      return this.openCounted();
    }
    const handed = await new Promise<Buffer | null>((resolve, reject) =>
      this.waiters.push({ resolve, reject }),
    );
    // null: a session was discarded and its place in the pool handed over, still counted
    return handed ?? this.openCounted();
  }

  /** Open a session whose place in the pool is already counted in `live`. */
  private openCounted(): Buffer {
    const m = this.module;
    let session: Buffer | undefined;
    try {
      session = m.pkcs11.C_OpenSession(this.slot.handle, m.lib.CKF_SERIAL_SESSION);
      login(m, this.slot, session, this.settings.pin);
      return session;
    } catch (err) {
      if (session) closeSessionQuietly(m, session);
      this.freeSlot();
      throw err;
    }
  }

  private release(session: Buffer): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(session);
    else this.idle.push(session);
  }

  private discard(session: Buffer): void {
    closeSessionQuietly(this.module, session);
    this.freeSlot();
  }

  /** A place in the pool became free: hand it to a waiter (who opens a session) or count it. */
  private freeSlot(): void {
    const waiter = this.closed ? undefined : this.waiters.shift();
    if (waiter) waiter.resolve(null);
    else this.live--;
  }

  /**
   * Wait for the signatures in progress, log out when no other key of this process uses the
   * token's login, and close this key's sessions. Signing afterwards fails with
   * custody_unavailable.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(this.closedError());
    await Promise.allSettled([...this.inflight]);
    const m = this.module;
    const sessions = this.idle.splice(0);
    releaseLogin(m, this.slot, sessions[0]);
    for (const s of sessions) closeSessionQuietly(m, s);
    this.live = 0;
    m.keys.delete(this);
  }
}

const PSS = {
  sha256: { hashAlg: 'CKM_SHA256', mgf: 'CKG_MGF1_SHA256', hashAndSign: 'CKM_SHA256_RSA_PKCS_PSS' },
  sha384: { hashAlg: 'CKM_SHA384', mgf: 'CKG_MGF1_SHA384', hashAndSign: 'CKM_SHA384_RSA_PKCS_PSS' },
  sha512: { hashAlg: 'CKM_SHA512', mgf: 'CKG_MGF1_SHA512', hashAndSign: 'CKM_SHA512_RSA_PKCS_PSS' },
} as const satisfies Record<HashName, Record<string, keyof Pkcs11Lib>>;

/** The one private key with the settings' label and/or id. */
function findPrivateKey(
  m: LoadedModule,
  session: Buffer,
  settings: Pkcs11Settings,
  where: string,
): Buffer {
  const lib = m.lib;
  const template: Template = [{ type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY }];
  if (settings.keyLabel !== undefined) {
    template.push({ type: lib.CKA_LABEL, value: settings.keyLabel });
  }
  if (settings.keyId !== undefined) {
    template.push({ type: lib.CKA_ID, value: Buffer.from(settings.keyId, 'hex') });
  }
  const found = findObjects(m, session, template);
  if (found.length === 0) {
    throw new CustodyError('custody_key_not_found', `There is no private ${where}.`);
  }
  if (found.length > 1) {
    throw new CustodyError(
      'custody_key_not_found',
      `More than one private key matches the ${where}; give its key id as well.`,
    );
  }
  return found[0];
}

function readKeyFacts(m: LoadedModule, session: Buffer, handle: Buffer, where: string): KeyFacts {
  const lib = m.lib;
  const [type, canSign, id, label] = m.pkcs11.C_GetAttributeValue(session, handle, [
    { type: lib.CKA_KEY_TYPE },
    { type: lib.CKA_SIGN },
    { type: lib.CKA_ID },
    { type: lib.CKA_LABEL },
  ]);
  const keyType = readUlong(type.value);
  if (keyType !== lib.CKK_RSA && keyType !== lib.CKK_EC) {
    throw new CustodyError(
      'custody_key_unusable',
      `The ${where} is neither an RSA nor an EC key (CKA_KEY_TYPE ${keyType}).`,
    );
  }
  if (!readBool(canSign.value)) {
    throw new CustodyError(
      'custody_key_unusable',
      `The ${where} may not sign (its CKA_SIGN attribute is false).`,
    );
  }
  const kind = keyType === lib.CKK_RSA ? 'RSA' : 'EC';
  const labelText = label.value.toString('utf8');
  return {
    type: kind,
    label: labelText,
    id: Buffer.from(id.value),
    ...publicKeyFacts(m, session, handle, kind, labelText, id.value, where),
  };
}

/** Open a key on a token for signing (see Pkcs11Key). */
export function openPkcs11Key(
  settings: Pkcs11Settings,
  options?: Pkcs11KeyOptions,
): Promise<Pkcs11Key> {
  return Pkcs11Key.open(settings, options);
}

// ---------------------------------------------------------------------------------------------
// Key generation

/**
 * Generate a key pair on the token (C_GenerateKeyPair, run off the event loop: an RSA-4096
 * key takes seconds). The private key is a token object that is private, sensitive, never
 * extractable and may only sign; the public key may only verify. Both get `label` and a
 * random 16-byte CKA_ID, returned in hex with the SubjectPublicKeyInfo. Open the key
 * afterwards by its id: a label need not be unique on a token.
 */
export async function generatePkcs11Key(
  settings: Pkcs11TokenSettings,
  spec: Pkcs11KeySpec,
  label: string,
): Promise<{ keyId: string; spki: Buffer }> {
  checkTokenSettings(settings);
  if (!PKCS11_KEY_SPECS.includes(spec)) {
    throw new CustodyError(
      'custody_key_unusable',
      `A key for signing on a token is one of ${PKCS11_KEY_SPECS.join(', ')}, not ${String(spec)}.`,
    );
  }
  if (typeof label !== 'string' || label === '') {
    throw new CustodyError('custody_key_unusable', 'A key generated on a token needs a label.');
  }
  const m = loadModule(settings.module);
  const lib = m.lib;
  const where = `key ${JSON.stringify(label)} on ${tokenDescription(settings)}`;
  const slot = findSlot(m, settings);
  const id = crypto.randomBytes(16);

  const common = [
    { type: lib.CKA_TOKEN, value: true },
    { type: lib.CKA_LABEL, value: label },
    { type: lib.CKA_ID, value: id },
  ];
  const publicTemplate: Template = [
    ...common,
    { type: lib.CKA_CLASS, value: lib.CKO_PUBLIC_KEY },
    { type: lib.CKA_PRIVATE, value: false },
    { type: lib.CKA_VERIFY, value: true },
    { type: lib.CKA_ENCRYPT, value: false },
    { type: lib.CKA_WRAP, value: false },
  ];
  const privateTemplate: Template = [
    ...common,
    { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
    { type: lib.CKA_PRIVATE, value: true },
    { type: lib.CKA_SENSITIVE, value: true },
    { type: lib.CKA_EXTRACTABLE, value: false },
    { type: lib.CKA_SIGN, value: true },
    // A signing key only: S/MIME keeps encryption keys apart (RFC 8550 §4.4.2).
    { type: lib.CKA_DECRYPT, value: false },
    { type: lib.CKA_UNWRAP, value: false },
  ];
  let mechanism: Mechanism;
  if (spec.startsWith('RSA-')) {
    mechanism = { mechanism: lib.CKM_RSA_PKCS_KEY_PAIR_GEN };
    publicTemplate.push(
      { type: lib.CKA_KEY_TYPE, value: lib.CKK_RSA },
      { type: lib.CKA_MODULUS_BITS, value: Number(spec.slice(4)) },
      { type: lib.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
    );
    privateTemplate.push({ type: lib.CKA_KEY_TYPE, value: lib.CKK_RSA });
  } else {
    const curve = CURVES.find((c) => c.name === spec) as Curve;
    mechanism = { mechanism: lib.CKM_EC_KEY_PAIR_GEN };
    publicTemplate.push(
      { type: lib.CKA_KEY_TYPE, value: lib.CKK_EC },
      { type: lib.CKA_EC_PARAMS, value: oid(curve.oid) },
    );
    privateTemplate.push({ type: lib.CKA_KEY_TYPE, value: lib.CKK_EC });
  }

  let session: Buffer | undefined;
  let held = false;
  try {
    session = m.pkcs11.C_OpenSession(slot.handle, lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION);
    login(m, slot, session, settings.pin);
    holdLogin(m, slot, settings.pin);
    held = true;
    const s = session;
    const pair = await new Promise<{ privateKey: Buffer; publicKey: Buffer }>((resolve, reject) =>
      m.pkcs11.C_GenerateKeyPair(s, mechanism, publicTemplate, privateTemplate, (err, keys) =>
        err ? reject(err) : resolve(keys),
      ),
    );
    const facts = publicKeyFacts(
      m,
      s,
      pair.privateKey,
      spec.startsWith('RSA-') ? 'RSA' : 'EC',
      label,
      id,
      where,
    );
    return { keyId: id.toString('hex'), spki: facts.spki };
  } catch (err) {
    throw pkcs11CustodyError(err, 'generate', where);
  } finally {
    if (held) releaseLogin(m, slot, session);
    if (session) closeSessionQuietly(m, session);
  }
}
