/**
 * Verifier wrapper: NSS `cmsutil` (NSS 3.87, Debian package libnss3-tools) with a private
 * NSS sql: database per test PKI, holding the root (trust `C,C,C`) and the intermediate
 * (no trust flags). cmsutil does not add certificates from verified messages to the database.
 * The database is removed at process exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMutex, describeRun, run, runOk, withTempDir, type VerifyResult } from './pki-exec';
import type { TestPki } from './pki';
import { splitSignedMessage } from './verifier-mime';

interface NssDb {
  db: string;
  serial: <T>(task: () => Promise<T>) => Promise<T>;
}

const dbs = new WeakMap<TestPki, Promise<NssDb>>();

async function createDb(pki: TestPki): Promise<NssDb> {
  const dir = mkdtempSync(join(tmpdir(), 'smime-nssdb-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const db = `sql:${dir}`;
  await runOk('certutil', ['-N', '-d', db, '--empty-password']);
  await runOk('certutil', ['-A', '-d', db, '-n', 'test-root', '-t', 'C,C,C', '-i', pki.rootPath]);
  // prettier-ignore
  await runOk('certutil', [
    '-A', '-d', db, '-n', 'test-intermediate', '-t', ',,', '-i', pki.intermediatePath,
  ]);
  return { db, serial: createMutex() };
}

function getDb(pki: TestPki): Promise<NssDb> {
  let d = dbs.get(pki);
  if (!d) {
    d = createDb(pki);
    dbs.set(pki, d);
  }
  return d;
}

/** The NSS database (`sql:/path`) used for `pki` (created on first use). */
export async function nssDb(pki: TestPki): Promise<string> {
  return (await getDb(pki)).db;
}

/**
 * Verifies a signed S/MIME message with NSS: `cmsutil -D -n -h 3 -d sql:DB -i sig.p7s -c
 * content.bin` (detached; `-c` is the detached content, the exact first-part bytes) or
 * `cmsutil -D -n -h 3 -d sql:DB -i msg.p7m` (opaque). `-h 3` prints the per-signer status,
 * `-n` suppresses the content, cert usage defaults to certUsageEmailSigner.
 *
 * cmsutil exits 0 even for bad or untrusted signatures, so `ok` = exit status 0 and every
 * `signerN.status=` is `GoodSignature` (at least one). Other statuses seen: `DigestMismatch`
 * (tampered content), `SigningCertNotTrusted` (unknown root, expired / not-yet-valid cert, wrong
 * key usage or EKU), `BadSignature`.
 */
export async function verifyWithCmsutil(msg: Buffer, pki: TestPki): Promise<VerifyResult> {
  let parts;
  try {
    parts = splitSignedMessage(msg);
  } catch (e) {
    return { ok: false, output: `cmsutil wrapper: cannot split message: ${(e as Error).message}` };
  }
  const { db, serial } = await getDb(pki);
  return withTempDir('smime-verify-nss-', async (dir) => {
    const base = ['-D', '-n', '-h', '3', '-d', db];
    let args: string[];
    if (parts.kind === 'detached') {
      await writeFile(join(dir, 'sig.p7s'), parts.signature);
      await writeFile(join(dir, 'content.bin'), parts.content);
      args = [...base, '-i', join(dir, 'sig.p7s'), '-c', join(dir, 'content.bin')];
    } else {
      await writeFile(join(dir, 'msg.p7m'), parts.der);
      args = [...base, '-i', join(dir, 'msg.p7m')];
    }
    const res = await serial(() => run('cmsutil', args));
    const output = describeRun('cmsutil', args, res);
    const statuses = [...res.stdout.matchAll(/signer\d+\.status=(\w+)/g)].map((m) => m[1]);
    const ok =
      res.code === 0 && statuses.length > 0 && statuses.every((s) => s === 'GoodSignature');
    return { ok, output };
  });
}
