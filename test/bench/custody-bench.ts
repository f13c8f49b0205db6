/**
 * The custody section (`npm run bench -- --sections custody`): messages per second and CPU
 * per message of the signing engine when the private key is in each custody the relay has:
 *
 *   - sealed: the key in this process's memory, node:crypto on libuv's thread pool (the
 *     baseline, measured in the same run);
 *   - pkcs11: a key generated on a real SoftHSM2 token, signing through pkcs11js and the
 *     relay's Pkcs11Key (a pool of PKCS11_SESSIONS sessions, C_Sign on the thread pool);
 *   - aws-kms: a key in the fake KMS (test/helpers/fake-kms.ts) run as a child process, so
 *     that its CPU is counted apart; the relay's AwsKmsKeys signs through the AWS SDK, the
 *     egress guard's keep-alive agent and SigV4, one Sign request per message.
 *
 * Each remote custody is measured at added round-trip latencies (default 0, 5 and 20 ms), at
 * the worker concurrency the relay uses (WORKER_CONCURRENCY) and at a higher one. For KMS the
 * fake waits `latencyMs` before answering. SoftHSM answers locally, so for PKCS#11 the latency
 * is SIMULATED around a real SoftHSM signature: a delay before Pkcs11Key.sign that holds one
 * of the pool's session slots meanwhile, as a network HSM's C_Sign holds its session for the
 * round trip. What is not simulated: the libuv thread that such a C_Sign would block.
 *
 * Every message is the 20 KB newsletter with a distinct body and no signature cache is
 * passed, so every message is really signed. Each row's first output is verified first.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Environment } from '../../src/config/environment';
import { AwsKmsKeys, type AwsKmsSettings, type KmsKeySpec } from '../../src/custody/aws-kms';
import { buildCsr, csrPem } from '../../src/custody/csr';
import {
  generatePkcs11Key,
  openPkcs11Key,
  pkcs11Module,
  type Pkcs11Key,
  type Pkcs11KeySpec,
} from '../../src/custody/pkcs11';
import { guardedAgent } from '../../src/egress/guarded-request';
import {
  custodyIdentity,
  defaultHash,
  loadSigningIdentity,
  signMessage,
  verifyMessage,
  type KeySigner,
  type SigningIdentity,
} from '../../src/smime';
import { newsletter20k } from '../fixtures/newsletters';
import { loopbackEgress } from '../helpers/egress';
import type { FakeKmsKeySpec } from '../helpers/fake-kms';
import type { TestPki } from '../helpers/pki';
import { runOk, withTempDir } from '../helpers/pki-exec';
import { SOFTHSM_MISSING, softHsmModule, startSoftHsm, type SoftHsm } from '../helpers/softhsm';
import type { KmsChildRequest, KmsChildStats } from './custody-kms-child';
import { measure } from './measure';
import {
  FOCUS_KEYS,
  type BenchOptions,
  type CustodyName,
  type CustodyResult,
  type CustodyRow,
  type CustodySettings,
  type KeyName,
} from './types';

const ROOT = resolve(__dirname, '..', '..');
const KMS_CHILD = resolve(__dirname, 'custody-kms-child.ts');
const TOKEN = 'bench-custody';
const PIN = randomBytes(6).toString('hex');
const KMS_CREDENTIALS = {
  region: 'eu-west-1',
  accessKeyId: 'AKIABENCHFAKEKMS0001',
  secretAccessKey: randomBytes(30).toString('base64'),
};
/** The newsletter's From: the certificates made for token and KMS keys carry it. */
const SENDER = 'news@example.com';

const SPECS: Record<KeyName, { pki: 'rsa2048' | 'rsa3072' | 'p256' | 'p384'; kms: KmsKeySpec }> = {
  'RSA-2048': { pki: 'rsa2048', kms: 'RSA_2048' },
  'RSA-3072': { pki: 'rsa3072', kms: 'RSA_3072' },
  'P-256': { pki: 'p256', kms: 'ECC_NIST_P256' },
  'P-384': { pki: 'p384', kms: 'ECC_NIST_P384' },
};

export function resolveCustodySettings(o: BenchOptions): CustodySettings {
  const env = new Environment();
  const quick = o.quick ?? false;
  const c = o.custody ?? {};
  const durationMs = o.durationMs ?? (quick ? 150 : 1500);
  const relayConcurrency = env.WORKER_CONCURRENCY;
  const higher = Math.max(64, relayConcurrency * 2);
  const agent = guardedAgent(loopbackEgress().options('provider-api'), false);
  const kmsSockets = agent.maxSockets;
  agent.destroy();
  return {
    keys: o.keys ?? [...FOCUS_KEYS],
    latenciesMs: c.latenciesMs ?? (quick ? [0, 20] : [0, 5, 20]),
    concurrency: c.concurrency ?? (quick ? [relayConcurrency] : [relayConcurrency, higher]),
    pkcs11Sessions: c.pkcs11Sessions ?? env.PKCS11_SESSIONS,
    durationMs,
    warmupMs: o.warmupMs ?? Math.min(1000, Math.max(50, Math.round(durationMs / 4))),
    relayWorkerConcurrency: relayConcurrency,
    relayPkcs11Sessions: env.PKCS11_SESSIONS,
    kmsSockets,
  };
}

// ---------------------------------------------------------------------------------------------
// Messages

/** Replaced by a counter in every message, so that no two signed entities are alike. */
const MARKER = 'This week';
let serial = 0;

/** A copy of `raw` per call whose text part begins with a number of its own. */
export function distinctBodies(raw: Buffer): () => Buffer {
  const crlf = raw.indexOf('\r\n\r\n');
  const headerEnd = crlf >= 0 ? crlf : raw.indexOf('\n\n');
  const at = raw.indexOf(MARKER, headerEnd);
  if (headerEnd < 0 || at < 0) throw new Error(`the newsletter has no "${MARKER}" in its body`);
  return () => {
    const copy = Buffer.from(raw);
    copy.write(String(++serial % 1e9).padStart(MARKER.length, '0'), at, 'latin1');
    return copy;
  };
}

// ---------------------------------------------------------------------------------------------
// Signers

/**
 * `inner` with `ms` of round trip before each signature, at most `slots` at a time: the slot is
 * held during the delay and the signature, like a PKCS#11 session during a network HSM's C_Sign.
 */
export function delayedSigner(inner: KeySigner, ms: number, slots: number): KeySigner {
  if (ms <= 0) return inner;
  let free = slots;
  const waiting: (() => void)[] = [];
  const acquire = (): Promise<void> | void => {
    if (free > 0) {
      free--;
      return;
    }
    return new Promise<void>((r) => waiting.push(r));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return {
    async sign(hash, scheme, data) {
      await acquire();
      try {
        await sleep(ms);
        return await inner.sign(hash, scheme, data);
      } finally {
        release();
      }
    },
  };
}

/** The test CA issues a certificate from a CSR, with the extensions the request asked for. */
async function issue(pki: TestPki, csr: string): Promise<string> {
  return withTempDir('smime-bench-csr-', async (dir) => {
    writeFileSync(join(dir, 'req.csr'), csr);
    // prettier-ignore
    await runOk('openssl', ['x509', '-req', '-in', join(dir, 'req.csr'),
      '-CA', pki.intermediatePath, '-CAkey', pki.intermediateKeyPath,
      '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-days', '30', '-sha256',
      '-copy_extensions', 'copyall', '-out', join(dir, 'cert.pem')]);
    return readFileSync(join(dir, 'cert.pem'), 'utf8');
  });
}

/** The identity of a key kept in a custody: a CSR signed by the key, issued by the test CA. */
async function identityFor(
  pki: TestPki,
  k: KeyName,
  spki: Buffer,
  signer: KeySigner,
): Promise<SigningIdentity> {
  const csr = await buildCsr({
    spki,
    keySpec: k,
    subject: { commonName: `smime-relay bench ${k}` },
    emailAddresses: [SENDER],
    signer,
  });
  const certificate = await issue(pki, csrPem(csr));
  return custodyIdentity({ certificate, chain: pki.intermediatePem }, spki, signer);
}

// ---------------------------------------------------------------------------------------------
// The fake KMS child

class KmsChild {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly stderr: string[] = [];

  private constructor(private readonly child: ChildProcess) {
    child.stderr?.on('data', (b: Buffer) => {
      this.stderr.push(b.toString());
      if (this.stderr.length > 20) this.stderr.shift();
    });
    child.on('message', (m: { id: number; value?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`fake KMS: ${m.error}`));
      else p.resolve(m.value);
    });
    child.on('exit', (code, signal) => {
      const why = new Error(
        `the fake KMS process exited (${signal ?? `code ${code}`}): ${this.stderr.join('')}`,
      );
      for (const p of this.pending.values()) p.reject(why);
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(): Promise<{ child: KmsChild; endpoint: string }> {
    const proc = fork(KMS_CHILD, [], {
      cwd: ROOT,
      execArgv: ['-r', '@swc-node/register'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const child = new KmsChild(proc);
    try {
      const { endpoint } = await child.ask<{ endpoint: string }>({
        op: 'start',
        credentials: KMS_CREDENTIALS,
      });
      return { child, endpoint };
    } catch (e) {
      await child.stop();
      throw e;
    }
  }

  ask<T>(request: KmsChildRequest, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the fake KMS did not answer "${request.op}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolvePromise(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      if (!this.child.connected) {
        this.pending.get(id)?.reject(new Error('the fake KMS process is gone'));
        return;
      }
      this.child.send({ ...request, id });
    });
  }

  stats(): Promise<KmsChildStats> {
    return this.ask<KmsChildStats>({ op: 'stats' });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    try {
      if (this.child.connected) await this.ask({ op: 'stop' }, 5_000);
    } catch {
      this.child.kill('SIGKILL');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// The run

interface KeyUnderTest {
  key: KeyName;
  sealed: SigningIdentity;
  pkcs11?: { key: Pkcs11Key; spki: Buffer; identity: Map<number, SigningIdentity> };
  kms?: SigningIdentity;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The token's limit on sessions as C_GetTokenInfo says (0: none given), or undefined. */
function tokenSessionLimit(module: string): number | undefined {
  try {
    const p = pkcs11Module(module);
    for (const slot of p.C_GetSlotList(true)) {
      const info = p.C_GetTokenInfo(slot);
      if (info.label.trim() === TOKEN) return info.maxSessionCount;
    }
  } catch {
    // not known
  }
  return undefined;
}

export async function runCustodyBench(
  options: BenchOptions,
  pki: TestPki,
  log: (text: string) => void,
): Promise<CustodyResult> {
  const s = resolveCustodySettings(options);
  const result: CustodyResult = { settings: s, rows: [], skipped: [], notes: [] };
  const skip = (custody: CustodyName, reason: string): void => {
    result.skipped.push({ custody, reason });
    log(`custody: the ${custody} rows are skipped: ${reason}\n`);
  };
  const raw = newsletter20k();
  const nextBody = distinctBodies(raw);
  const keys: KeyUnderTest[] = s.keys.map((key) => {
    const t = pki.identities[SPECS[key].pki];
    const input = { certificate: t.certPem, privateKey: t.keyPem, chain: pki.intermediatePem };
    return { key, sealed: loadSigningIdentity(input) };
  });

  let softHsm: SoftHsm | undefined;
  let kmsChild: KmsChild | undefined;
  let kms: AwsKmsKeys | undefined;
  try {
    // PKCS#11: one SoftHSM2 token, one key per key type generated on it.
    const module = softHsmModule();
    if (!module) skip('pkcs11', SOFTHSM_MISSING);
    else {
      try {
        log('custody: SoftHSM2 token and keys … ');
        softHsm = await startSoftHsm();
        await softHsm.initToken(TOKEN, PIN);
        const token = { module, tokenLabel: TOKEN, pin: PIN };
        for (const k of keys) {
          const made = await generatePkcs11Key(token, k.key as Pkcs11KeySpec, `bench ${k.key}`);
          const key = await openPkcs11Key(
            { ...token, keyId: made.keyId },
            { sessions: s.pkcs11Sessions },
          );
          const identity = await identityFor(pki, k.key, made.spki, key);
          k.pkcs11 = { key, spki: made.spki, identity: new Map([[0, identity]]) };
          for (const ms of s.latenciesMs.filter((l) => l > 0)) {
            const signer = delayedSigner(key, ms, key.poolSize);
            const certificate = identity.certificate.der;
            const chain = pki.intermediatePem;
            k.pkcs11.identity.set(ms, custodyIdentity({ certificate, chain }, made.spki, signer));
          }
        }
        const limit = tokenSessionLimit(module);
        const pool = keys[0]?.pkcs11?.key.poolSize;
        result.notes.push(
          `pkcs11: SoftHSM2 token maxSessionCount ${limit === undefined ? 'unknown' : limit === 0 ? '0 (no limit given)' : limit}; ` +
            `key pool ${pool ?? s.pkcs11Sessions} sessions (asked for ${s.pkcs11Sessions})`,
        );
        log('ready\n');
      } catch (e) {
        log('failed\n');
        for (const k of keys) k.pkcs11 = undefined;
        skip('pkcs11', `SoftHSM2 could not be set up: ${message(e)}`);
      }
    }

    // AWS KMS: the fake in a child process, one key per key type, opened with GetPublicKey.
    try {
      log('custody: fake KMS child and keys … ');
      const started = await KmsChild.start();
      kmsChild = started.child;
      kms = new AwsKmsKeys(loopbackEgress());
      const settings: AwsKmsSettings = { ...KMS_CREDENTIALS, endpoint: started.endpoint };
      for (const k of keys) {
        const spec = SPECS[k.key].kms;
        const { keyId } = await kmsChild.ask<{ keyId: string }>({
          op: 'createKey',
          spec: spec as FakeKmsKeySpec,
        });
        const d = await kms.describe(settings, keyId);
        k.kms = await identityFor(pki, k.key, d.spki, kms.signer(settings, d.keyId, d.keySpec));
      }
      const counts = (await kmsChild.stats()).counts;
      result.notes.push(
        `aws-kms: before the rows, ${counts.GetPublicKey ?? 0} GetPublicKey (one per key, when ` +
          `opened) and ${counts.Sign ?? 0} Sign (one per key, for its CSR); fake KMS pid ${kmsChild.pid}`,
      );
      log('ready\n');
    } catch (e) {
      log('failed\n');
      for (const k of keys) k.kms = undefined;
      skip('aws-kms', `the fake KMS could not be set up: ${message(e)}`);
    }

    // The rows, per key and concurrency: sealed first, then pkcs11 and aws-kms per latency.
    /** `limit`: what bounds the signatures in flight besides the concurrency. */
    const plan: { row: CustodyRow; identity: SigningIdentity; limit?: number }[] = [];
    for (const k of keys) {
      for (const concurrency of s.concurrency) {
        const row = (custody: CustodyName, latencyMs: number): CustodyRow => ({
          key: k.key,
          custody,
          latencyMs,
          concurrency,
          bytes: raw.length,
          ok: false,
        });
        plan.push({ row: row('sealed', 0), identity: k.sealed });
        for (const ms of k.pkcs11 ? s.latenciesMs : []) {
          const { identity, key } = k.pkcs11!;
          plan.push({ row: row('pkcs11', ms), identity: identity.get(ms)!, limit: key.poolSize });
        }
        for (const ms of k.kms ? s.latenciesMs : []) {
          plan.push({ row: row('aws-kms', ms), identity: k.kms!, limit: s.kmsSockets });
        }
      }
    }

    const verify = async (out: Buffer): Promise<string> => {
      const r = await verifyMessage(out, { trustAnchors: [pki.rootPem] });
      if (r.valid) return 'ok';
      if (r.signatureValid) return `signature ok (${r.errors[0]?.message ?? 'not valid'})`;
      return `BAD: ${r.errors[0]?.message ?? 'signature does not verify'}`;
    };
    const measureOptions = { durationMs: s.durationMs, warmupMs: s.warmupMs };
    for (const [i, { row, identity, limit }] of plan.entries()) {
      const added = row.custody === 'sealed' ? '' : ` +${row.latencyMs} ms`;
      log(
        `[custody ${i + 1}/${plan.length}] ${row.key} ${row.custody}${added}, ` +
          `${row.concurrency} in flight … `,
      );
      const remote = row.custody === 'aws-kms' ? kmsChild : undefined;
      try {
        const hash = defaultHash(identity);
        let signed = 0;
        const op = async (): Promise<Buffer> => {
          const out = await signMessage(nextBody(), identity, { hash, format: 'detached' });
          signed++;
          return out;
        };
        if (remote) await remote.ask({ op: 'latency', ms: row.latencyMs });
        const before = remote ? await remote.stats() : undefined;
        row.check = await verify(await op());
        const sample = await measure(op, { ...measureOptions, concurrency: row.concurrency });
        Object.assign(row, sample, { ok: true });
        if (remote && before) {
          const after = await remote.stats();
          const delta = (target: string): number =>
            (after.counts[target] ?? 0) - (before.counts[target] ?? 0);
          const all = Object.keys(after.counts).reduce((n, t) => n + delta(t), 0);
          row.fakeKmsCpuUsPerMsg = (after.cpuUs - before.cpuUs) / signed;
          row.kmsSignPerMsg = delta('Sign') / signed;
          row.kmsOtherRequests = all - delta('Sign');
        }
        if (row.latencyMs > 0 && limit !== undefined) {
          row.boundPerSec = (Math.min(row.concurrency, limit) * 1000) / row.latencyMs;
        }
        log(`${Math.round(sample.opsPerSec).toLocaleString('en-US')}/s\n`);
      } catch (e) {
        row.error = message(e);
        log(`n/a (${row.error})\n`);
      } finally {
        if (remote) await remote.ask({ op: 'latency', ms: 0 }).catch(() => undefined);
      }
      result.rows.push(row);
    }
    for (const row of result.rows) {
      const sealed = result.rows.find(
        (r) => r.custody === 'sealed' && r.key === row.key && r.concurrency === row.concurrency,
      );
      if (row.ok && sealed?.ok && sealed.opsPerSec) {
        row.vsSealed = (row.opsPerSec ?? 0) / sealed.opsPerSec;
      }
    }
    for (const k of keys) {
      if (k.pkcs11) {
        result.notes.push(
          `pkcs11 ${k.key}: ${k.pkcs11.key.openSessions} of ${k.pkcs11.key.poolSize} sessions open after the rows`,
        );
      }
    }
    return result;
  } finally {
    for (const k of keys) await k.pkcs11?.key.close().catch(() => undefined);
    await softHsm?.stop().catch(() => undefined);
    await kms?.close().catch(() => undefined);
    await kmsChild?.stop().catch(() => undefined);
  }
}
