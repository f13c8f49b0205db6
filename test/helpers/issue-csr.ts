/**
 * The test CA issuing a certificate from a CSR, as a real CA would for a request made by the
 * relay: the intermediate signs it with the extensions the request asked for
 * (`-copy_extensions copyall`), valid for a year.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestPki } from './pki';
import { runOk, withTempDir } from './pki-exec';

/** The PEM certificate the test intermediate CA issues for `csrPem` (checked first). */
export function issueFromCsr(pki: TestPki, csrPem: string): Promise<string> {
  return withTempDir('smime-csr-', async (dir) => {
    const req = join(dir, 'req.csr');
    writeFileSync(req, csrPem);
    await runOk('openssl', ['req', '-in', req, '-verify', '-noout']);
    await runOk('openssl', [
      'x509',
      '-req',
      '-in',
      req,
      '-CA',
      pki.intermediatePath,
      '-CAkey',
      pki.intermediateKeyPath,
      '-set_serial',
      `0x${randomBytes(12).toString('hex')}`,
      '-days',
      '365',
      '-sha256',
      '-copy_extensions',
      'copyall',
      '-out',
      join(dir, 'cert.pem'),
    ]);
    return readFileSync(join(dir, 'cert.pem'), 'utf8');
  });
}
