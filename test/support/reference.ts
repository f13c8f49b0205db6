/**
 * Reference messages for the verification tests: a small MIME entity signed by
 * `openssl cms -sign` (test/helpers/openssl.ts) with the header fields a real message has, an
 * untrusted root, and report helpers.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKey, type IdentityName, type TestPki } from '../helpers/pki';
import { runOk } from '../helpers/pki-exec';
import { rfc5322Date } from '../helpers/mail-date';
import { signWithOpenssl, type OpensslSignOptions } from '../helpers/verifiers';
import type { VerificationReport } from '../../src';

/** The signed entity: one 7-bit text part, CRLF. */
export const CONTENT = Buffer.from(
  'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n' +
    'Hello newsletter readers!\r\nThis week: autumn release notes.\r\n',
);
/** Header fields outside the signature (OpenSSL's output has none of them), dated `date`. */
export const outerFields = (date: string): string =>
  'From: "Example News" <news@example.com>\r\nTo: "Jane Doe" <jane.doe@example.net>\r\n' +
  `Subject: Verification test\r\nDate: ${date}\r\n`;
export const OUTER = outerFields('Tue, 03 Sep 2024 09:30:00 +0200');
/** {@link CONTENT} as a complete unsigned message, for the engine to sign. */
export const UNSIGNED = Buffer.concat([Buffer.from(OUTER + 'MIME-Version: 1.0\r\n'), CONTENT]);

/**
 * {@link CONTENT} signed by OpenSSL (with the intermediate), the outer fields added on top and
 * dated now: OpenSSL always writes signingTime, which must agree with Date:.
 */
export async function opensslSigned(
  pki: TestPki,
  name: IdentityName,
  opts: OpensslSignOptions = {},
): Promise<Buffer> {
  const msg = await signWithOpenssl(CONTENT, pki.identities[name], {
    certfile: pki.chainPath,
    ...opts,
  });
  return Buffer.concat([Buffer.from(outerFields(rfc5322Date(new Date()))), msg]);
}

/** A self-signed P-256 root with the same subject as the test root; returns its PEM. */
export async function rogueRoot(pki: TestPki, dir: string): Promise<string> {
  await generateKey('p256', join(dir, 'rogue.key'));
  // prettier-ignore
  await runOk('openssl', [
    'req', '-x509', '-new', '-config', pki.configPath, '-extensions', 'v3_root',
    '-key', join(dir, 'rogue.key'), '-subj', '/CN=smime-relay Test Root CA/O=Example Org',
    '-days', '365', '-out', join(dir, 'rogue.pem'),
  ]);
  return readFile(join(dir, 'rogue.pem'), 'utf8');
}

/** The error codes of a report, in order. */
export const codes = (r: VerificationReport): string[] => r.errors.map((e) => e.code);

/** A report that is valid with no errors. */
export function assertValid(r: VerificationReport, what: string): void {
  assert.deepEqual(r.errors, [], what);
  assert.equal(r.valid, true, what);
  assert.equal(r.signatureValid, true, what);
}
