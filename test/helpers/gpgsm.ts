/**
 * Verifier wrapper: GnuPG `gpgsm` (2.2.40) with a private GNUPGHOME per test PKI.
 *
 * The home contains `trustlist.txt` (the root's SHA-1 fingerprint with flag `S`, read by the
 * gpg-agent that gpgsm auto-starts), a `gpgsm.conf` with `disable-crl-checks`,
 * `disable-dirmngr` (offline: no CRL/OCSP/LDAP lookups, gpgsm logs "CRLs not checked due to
 * offline option"), `disable-policy-checks` and `no-common-certs-import`, and a keybox with the
 * root and intermediate imported. gpgsm also stores the certificates it finds in verified
 * messages in that keybox, so it cannot detect a message that lacks the intermediate.
 * The agent is killed and the home removed at process exit.
 */
import { X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMutex, describeRun, run, runOk, withTempDir, type VerifyResult } from './pki-exec';
import type { TestPki } from './pki';
import { splitSignedMessage } from './verifier-mime';

interface GpgsmHome {
  home: string;
  serial: <T>(task: () => Promise<T>) => Promise<T>;
}

const homes = new WeakMap<TestPki, Promise<GpgsmHome>>();

async function createHome(pki: TestPki): Promise<GpgsmHome> {
  const home = mkdtempSync(join(tmpdir(), 'smime-gnupg-'));
  process.once('exit', () => {
    spawnSync('gpgconf', ['--homedir', home, '--kill', 'all'], { stdio: 'ignore' });
    rmSync(home, { recursive: true, force: true });
  });
  const fpr = new X509Certificate(pki.rootPem).fingerprint; // SHA-1, "AB:CD:..."
  writeFileSync(join(home, 'trustlist.txt'), `${fpr} S\n`);
  writeFileSync(
    join(home, 'gpgsm.conf'),
    'disable-crl-checks\ndisable-dirmngr\ndisable-policy-checks\nno-common-certs-import\n',
  );
  // prettier-ignore
  await runOk('gpgsm', [
    '--homedir', home, '--batch', '--import', pki.rootPath, pki.intermediatePath,
  ]);
  return { home, serial: createMutex() };
}

function getHome(pki: TestPki): Promise<GpgsmHome> {
  let h = homes.get(pki);
  if (!h) {
    h = createHome(pki);
    homes.set(pki, h);
  }
  return h;
}

/** The GNUPGHOME used for `pki` (created on first use), e.g. for debugging a failing test. */
export async function gpgsmHome(pki: TestPki): Promise<string> {
  return (await getHome(pki)).home;
}

/** Status keywords that must not appear for a good, trusted signature. */
const BAD_STATUS =
  /^\[GNUPG:\] (BADSIG|ERRSIG|EXPSIG|EXPKEYSIG|REVKEYSIG|TRUST_UNDEFINED|TRUST_NEVER|TRUST_MARGINAL|FAILURE|ERROR)\b/m;

/**
 * Verifies a signed S/MIME message with `gpgsm --batch --status-fd 1 --verify`:
 * detached: `--verify sig.p7s content.bin` (content = exact first-part bytes); opaque:
 * `--output content.out --verify msg.p7m`.
 *
 * `ok` = exit status 0, and the status output has `GOODSIG`, `VALIDSIG` and `TRUST_FULLY` (or
 * `TRUST_ULTIMATE`), and none of BADSIG/ERRSIG/EXPSIG/EXPKEYSIG/REVKEYSIG/TRUST_UNDEFINED/
 * TRUST_NEVER/TRUST_MARGINAL/FAILURE/ERROR. Both matter: gpgsm can print GOODSIG and
 * TRUST_FULLY yet exit 2 after logging an error (a P-384 key with a SHA-256 digest), and it exits
 * 0 with TRUST_FULLY for an expired signer (`EXPKEYSIG` instead of GOODSIG) or a signer without
 * digitalSignature/nonRepudiation (`ERROR verify.keyusage 125` before GOODSIG). An unknown root
 * gives GOODSIG + `TRUST_UNDEFINED` and exit 2; tampered content gives BADSIG and exit 2.
 */
export async function verifyWithGpgsm(msg: Buffer, pki: TestPki): Promise<VerifyResult> {
  let parts;
  try {
    parts = splitSignedMessage(msg);
  } catch (e) {
    return { ok: false, output: `gpgsm wrapper: cannot split message: ${(e as Error).message}` };
  }
  const { home, serial } = await getHome(pki);
  return withTempDir('smime-verify-gpgsm-', async (dir) => {
    const base = ['--homedir', home, '--batch', '--status-fd', '1'];
    let args: string[];
    if (parts.kind === 'detached') {
      await writeFile(join(dir, 'sig.p7s'), parts.signature);
      await writeFile(join(dir, 'content.bin'), parts.content);
      args = [...base, '--verify', join(dir, 'sig.p7s'), join(dir, 'content.bin')];
    } else {
      await writeFile(join(dir, 'msg.p7m'), parts.der);
      args = [...base, '--output', join(dir, 'content.out'), '--verify', join(dir, 'msg.p7m')];
    }
    const res = await serial(() => run('gpgsm', args));
    const output = describeRun('gpgsm', args, res);
    const ok =
      res.code === 0 &&
      /^\[GNUPG:\] GOODSIG /m.test(res.stdout) &&
      /^\[GNUPG:\] VALIDSIG /m.test(res.stdout) &&
      /^\[GNUPG:\] TRUST_(FULLY|ULTIMATE)\b/m.test(res.stdout) &&
      !BAD_STATUS.test(res.stdout);
    return { ok, output };
  });
}
