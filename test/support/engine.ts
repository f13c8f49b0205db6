/**
 * Small helpers shared by the engine integration tests (signing-corpus, cms-structure,
 * identity, verify, cli). Like the helpers in ../helpers they share no code with src/ beyond
 * its public API.
 */
import assert from 'node:assert/strict';
import { headerFields } from '../helpers/content';
import { KEY_PASSWORD, P12_PASSWORD, type IdentityName, type TestPki } from '../helpers/pki';
import { parseContentType } from '../helpers/verifier-mime';
import { fromProblemInputs } from '../fixtures/newsletters';
import {
  ERROR_CODES,
  RelayError,
  isRelayError,
  loadSigningIdentity,
  type ErrorCode,
  type SigningIdentity,
} from '../../src';

/** The four good signing identities every engine test signs with. */
export const GOOD_KEYS = ['rsa2048', 'rsa3072', 'p256', 'p384'] as const;
export type GoodKey = (typeof GOOD_KEYS)[number];

/** The hash the engine must pick when none is given (RFC 5753 §7.2 for P-384). */
export const DEFAULT_HASH: Record<GoodKey, 'sha256' | 'sha384'> = {
  rsa2048: 'sha256',
  rsa3072: 'sha256',
  p256: 'sha256',
  p384: 'sha384',
};

/** Loads an identity of the test PKI from its modern PKCS#12 file. */
export function identityFromP12(pki: TestPki, name: IdentityName): SigningIdentity {
  const p12 = pki.identities[name].p12;
  assert.ok(p12, `${name} has no PKCS#12 file`);
  return loadSigningIdentity({ pkcs12: p12, password: P12_PASSWORD });
}

/** Loads an identity of the test PKI from PEM certificate, PKCS#8 key and the intermediate. */
export function identityFromPem(pki: TestPki, name: IdentityName): SigningIdentity {
  const id = pki.identities[name];
  return loadSigningIdentity({
    certificate: id.certPem,
    privateKey: id.keyPem,
    chain: pki.intermediatePem,
  });
}

export interface ParsedField {
  value: string;
  mime: string;
  params: Map<string, string>;
  /** The field as written (folding included). */
  raw: string;
}

function fieldsToMap(fields: { name: string; raw: string }[]): Map<string, ParsedField[]> {
  const out = new Map<string, ParsedField[]>();
  for (const f of fields) {
    const value = f.raw
      .slice(f.raw.indexOf(':') + 1)
      .replace(/\r\n/g, '')
      .trim();
    const { mime, params } = parseContentType(value);
    const key = f.name.toLowerCase();
    out.set(key, [...(out.get(key) ?? []), { value, mime, params, raw: f.raw }]);
  }
  return out;
}

/** The single field `name` of a parsed header map; fails when absent or repeated. */
export function one(fields: Map<string, ParsedField[]>, name: string): ParsedField {
  const list = fields.get(name.toLowerCase()) ?? [];
  assert.equal(list.length, 1, `expected exactly one ${name} field, found ${list.length}`);
  return list[0];
}

/** Header fields of the top level of a message. */
export function topHeaders(msg: Buffer): Map<string, ParsedField[]> {
  return fieldsToMap(headerFields(msg));
}

/** Header fields of the second part (the signature) of a multipart/signed message. */
export function signaturePartHeaders(msg: Buffer): Map<string, ParsedField[]> {
  const boundary = one(topHeaders(msg), 'content-type').params.get('boundary');
  assert.ok(boundary, 'multipart/signed without boundary');
  const text = msg.toString('latin1');
  const delimiter = `\r\n--${boundary}\r\n`;
  const first = text.indexOf(delimiter);
  const second = text.indexOf(delimiter, first + 1);
  assert.ok(first >= 0 && second > first, 'two body parts expected');
  return fieldsToMap(headerFields(Buffer.from(text.slice(second + delimiter.length), 'latin1')));
}

/** Every line ending as bare LF (how some tools save mail). */
export const toLf = (msg: Buffer): Buffer =>
  Buffer.from(msg.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');

/** Base64 in 64-character CRLF lines. */
export const base64Lines = (der: Buffer): string =>
  der.toString('base64').replace(/.{1,64}/g, '$&\r\n');

/**
 * Replaces the CMS of a signed message (base64 in the smime.p7s part or the opaque body) with
 * `der`, leaving every other byte alone.
 */
export function replaceCms(msg: Buffer, der: Buffer): Buffer {
  const text = msg.toString('latin1');
  const top = one(topHeaders(msg), 'content-type');
  if (top.mime !== 'multipart/signed') {
    const sep = text.indexOf('\r\n\r\n') + 4;
    return Buffer.from(text.slice(0, sep) + base64Lines(der), 'latin1');
  }
  const boundary = top.params.get('boundary') ?? assert.fail('no boundary');
  const delimiter = `\r\n--${boundary}`;
  const second = text.indexOf(delimiter, text.indexOf(delimiter) + 1);
  const bodyStart = text.indexOf('\r\n\r\n', second) + 4;
  const close = text.indexOf(delimiter, bodyStart);
  assert.ok(second > 0 && bodyStart > 4 && close > bodyStart, 'signature part not found');
  return Buffer.from(
    text.slice(0, bodyStart) + base64Lines(der).replace(/\r\n$/, '') + text.slice(close),
    'latin1',
  );
}

/** Replaces the one occurrence of `from` (latin1) in `msg`; fails unless it occurs exactly once. */
export function replaceOnce(msg: Buffer, from: string, to: string): Buffer {
  const text = msg.toString('latin1');
  const at = text.indexOf(from);
  assert.ok(at >= 0, `${JSON.stringify(from)} not found`);
  assert.equal(text.indexOf(from, at + 1), -1, `${JSON.stringify(from)} occurs more than once`);
  return Buffer.from(text.slice(0, at) + to + text.slice(at + from.length), 'latin1');
}

/** A small, valid newsletter-like message whose From: is the bare `address`. */
export function messageFrom(address: string): Buffer {
  const base = fromProblemInputs.find((f) => f.name === 'from-bare-address');
  assert.ok(base, 'fixture from-bare-address');
  return replaceOnce(base.raw, 'From: news@example.com\r\n', `From: ${address}\r\n`);
}

/** A password that opens nothing in the test PKI. */
export const WRONG_PASSWORD = 'Wr0ng-Passw0rd-7731';
/** Strings that must never appear in an error message. */
export const SECRETS = [P12_PASSWORD, KEY_PASSWORD, WRONG_PASSWORD];

/**
 * Asserts that `fn` throws (or rejects with) a RelayError with `code`, whose message and
 * one-line form are one line and name none of {@link SECRETS} nor any of `forbidden`.
 */
export async function assertRelayError(
  fn: () => unknown,
  code: ErrorCode,
  forbidden: string[] = [],
): Promise<RelayError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `expected RelayError ${code}, nothing was thrown`);
  assert.ok(
    isRelayError(caught) && caught instanceof RelayError,
    `not a RelayError: ${String(caught)}`,
  );
  assert.equal(caught.code, code, `code (message: ${caught.message})`);
  assert.equal(caught.permanent, ERROR_CODES[code].permanent);
  const line = caught.toLine();
  assert.ok(line.startsWith(`error [${code}]: `), line);
  assert.doesNotMatch(line, /[\r\n]/, 'toLine() is one line');
  for (const s of [...SECRETS, ...forbidden]) {
    assert.ok(!line.includes(s), `error reveals ${JSON.stringify(s)}: ${line}`);
  }
  assert.doesNotMatch(line, /-----BEGIN|PRIVATE KEY-----/);
  return caught;
}
