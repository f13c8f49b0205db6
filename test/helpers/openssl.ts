/**
 * Verifier wrapper: OpenSSL `cms -verify` (OpenSSL 3.0 CLI).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeRun, run, runOk, withTempDir, type VerifyResult } from './pki-exec';
import type { TestPki } from './pki';

/**
 * Verifies a complete signed S/MIME message with
 * `openssl cms -verify -binary -crlfeol -purpose smimesign -CAfile root.pem -inform SMIME`.
 *
 * Only the root is trusted and no intermediate is supplied out of band: the message itself must
 * carry the intermediate certificate (as real mail clients require). `ok` = exit status 0 and
 * "Verification successful" in the output. The `smimesign` purpose makes OpenSSL check the
 * signer's keyUsage (digitalSignature/nonRepudiation) and extendedKeyUsage (emailProtection).
 * It does NOT check that the From address matches the certificate.
 */
export async function verifyWithOpenssl(msg: Buffer, pki: TestPki): Promise<VerifyResult> {
  return withTempDir('smime-verify-openssl-', async (dir) => {
    const inPath = join(dir, 'msg.eml');
    await writeFile(inPath, msg);
    // prettier-ignore
    const args = [
      'cms', '-verify', '-binary', '-crlfeol', '-purpose', 'smimesign',
      '-CAfile', pki.rootPath, '-in', inPath, '-inform', 'SMIME', '-out', '/dev/null',
    ];
    const res = await run('openssl', args);
    const output = describeRun('openssl', args, res);
    return { ok: res.code === 0 && /Verification successful/.test(output), output };
  });
}

/** Options for {@link signWithOpenssl}. */
export interface OpensslSignOptions {
  /** Opaque `application/pkcs7-mime` (`-nodetach`) instead of detached multipart/signed. */
  opaque?: boolean;
  /** Digest (default sha256). */
  digest?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  /** RSASSA-PSS; `pssSaltLength` is passed as `rsa_pss_saltlen` (OpenSSL default: max). */
  pss?: boolean;
  pssSaltLength?: 'digest' | 'max' | number;
  /** Extra certificates to include (PEM file); default: none. */
  certfile?: string;
}

/**
 * Reference signer: `openssl cms -sign -binary -crlfeol -outform SMIME` over `content` (a MIME
 * entity with CRLF line endings). Returns the S/MIME message with every line ending turned into
 * CRLF (OpenSSL writes the base64 lines with bare LF even with -crlfeol). The result has no
 * From/To/Subject headers. Throws if OpenSSL refuses (e.g. key does not match the cert).
 */
export async function signWithOpenssl(
  content: Buffer,
  signer: { certPath: string; keyPath: string },
  opts: OpensslSignOptions = {},
): Promise<Buffer> {
  return withTempDir('smime-sign-openssl-', async (dir) => {
    await writeFile(join(dir, 'content'), content);
    // prettier-ignore
    const args = [
      'cms', '-sign', '-signer', signer.certPath, '-inkey', signer.keyPath,
      '-md', opts.digest ?? 'sha256', '-binary', '-crlfeol', '-outform', 'SMIME',
      '-in', join(dir, 'content'), '-out', join(dir, 'out.eml'),
    ];
    if (opts.opaque) args.push('-nodetach');
    if (opts.certfile) args.push('-certfile', opts.certfile);
    if (opts.pss) {
      args.push('-keyopt', 'rsa_padding_mode:pss');
      if (opts.pssSaltLength !== undefined) {
        args.push('-keyopt', `rsa_pss_saltlen:${String(opts.pssSaltLength)}`);
      }
    }
    await runOk('openssl', args);
    const out = await readFile(join(dir, 'out.eml'), 'latin1');
    return Buffer.from(out.replace(/\r?\n/g, '\r\n'), 'latin1');
  });
}
