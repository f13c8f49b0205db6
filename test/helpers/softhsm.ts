/**
 * A private SoftHSM2 (Debian package `softhsm2`, 2.6) for the pkcs11 custody tests.
 *
 * startSoftHsm() makes a temp directory holding a token directory and a softhsm2.conf that
 * points at it, and sets process.env.SOFTHSM2_CONF. SoftHSM2 reads that variable (and the
 * configuration file) only in C_Initialize, so the module must be initialised after it is
 * set: startSoftHsm() first closes every PKCS#11 module of this process (closeAllPkcs11), and
 * stop() does it again before removing the directory. A test that changes the configuration
 * file calls closeAllPkcs11() itself; the next openPkcs11Key initialises SoftHSM2 again.
 *
 * Tokens are initialised and keys imported with softhsm2-util, run with the same
 * SOFTHSM2_CONF (it sees the tokens this process made, and this process sees its tokens after
 * its next C_GetSlotList). Failure messages leave the PINs out.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeAllPkcs11 } from '../../src/custody/pkcs11';
import { run } from './pki-exec';

/** Where Debian, Ubuntu, Fedora and Homebrew put the module; SOFTHSM2_MODULE overrides. */
const MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
];

/** The SoftHSM2 PKCS#11 module's path, or undefined when it is not installed. */
export function softHsmModule(): string | undefined {
  const configured = process.env.SOFTHSM2_MODULE;
  if (configured) return existsSync(configured) ? configured : undefined;
  return MODULE_CANDIDATES.find((p) => existsSync(p));
}

/** Whether the SoftHSM2 library file exists. */
export function softHsmAvailable(): boolean {
  return softHsmModule() !== undefined;
}

/** Said when SoftHSM2 is missing: the pkcs11 tests fail rather than skip (CI installs it). */
export const SOFTHSM_MISSING =
  'SoftHSM2 is not installed (no libsofthsm2.so found; set SOFTHSM2_MODULE if it is elsewhere): ' +
  'apt-get install softhsm2 (the pkcs11 custody tests need a real token)';

export interface SoftHsm {
  /** Path of libsofthsm2.so. */
  module: string;
  /** The softhsm2.conf written for this instance (SOFTHSM2_CONF). */
  conf: string;
  /** The temp directory (the configuration and tokens/). */
  dir: string;
  /** Initialise a token in the free slot; the slot id it was reassigned to. */
  initToken(label: string, pin: string, soPin?: string): Promise<{ slot: number }>;
  /** Import a PKCS#8 PEM private key (and its public key) with that label and CKA_ID (hex). */
  importKey(
    tokenLabel: string,
    pin: string,
    pkcs8Pem: string,
    label: string,
    idHex: string,
  ): Promise<void>;
  /** Remove a token and everything on it (as unplugging an HSM's card would). */
  deleteToken(label: string): Promise<void>;
  /** Close the PKCS#11 modules, remove the directory and restore SOFTHSM2_CONF. */
  stop(): Promise<void>;
}

export async function startSoftHsm(): Promise<SoftHsm> {
  const module = softHsmModule();
  if (!module) throw new Error(SOFTHSM_MISSING);
  // An initialised module would keep the configuration it read before.
  await closeAllPkcs11();
  const dir = await mkdtemp(join(tmpdir(), 'smime-softhsm-'));
  const tokens = join(dir, 'tokens');
  await mkdir(tokens);
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(
    conf,
    [
      `directories.tokendir = ${tokens}`,
      'objectstore.backend = file',
      'log.level = ERROR',
      'slots.removable = false',
      '',
    ].join('\n'),
  );
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = conf;
  let importCount = 0;

  /** softhsm2-util with this configuration; a failure names the command without its PINs. */
  async function util(args: string[], secrets: string[]): Promise<string> {
    const res = await run('softhsm2-util', args, { env: { SOFTHSM2_CONF: conf } });
    if (res.code !== 0) {
      const shown = args.map((a) => (secrets.includes(a) ? '***' : a)).join(' ');
      throw new Error(
        `softhsm2-util ${shown} failed (exit ${String(res.code)}): ${res.stdout}${res.stderr}`,
      );
    }
    return res.stdout;
  }

  return {
    module,
    conf,
    dir,
    async initToken(label, pin, soPin = `so-${pin}`) {
      const out = await util(
        ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin],
        [pin, soPin],
      );
      // "The token has been initialized and is reassigned to slot 1367493262"
      const m = /reassigned to slot (\d+)/.exec(out);
      if (!m) throw new Error(`softhsm2-util --init-token did not name the slot: ${out}`);
      return { slot: Number(m[1]) };
    },
    async importKey(tokenLabel, pin, pkcs8Pem, label, idHex) {
      const file = join(dir, `import-${++importCount}.pem`);
      await writeFile(file, pkcs8Pem, { mode: 0o600 });
      try {
        await util(
          ['--import', file, '--token', tokenLabel, '--label', label, '--id', idHex, '--pin', pin],
          [pin],
        );
      } finally {
        await rm(file, { force: true });
      }
    },
    async deleteToken(label) {
      await util(['--delete-token', '--token', label], []);
    },
    async stop() {
      await closeAllPkcs11();
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
