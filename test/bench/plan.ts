/**
 * What gets measured, in order: one Task per table row. A task's setup does the once-only work
 * (load the identity, build a message, import a key) and returns the per-message operation.
 */
import * as crypto from 'node:crypto';
import {
  SignatureCache,
  defaultHash,
  loadSigningIdentity,
  signMessage,
  verifyMessage,
  type HashName,
  type SigningIdentity,
} from '../../src';
import { dkimSign, relaxedBodyHash } from '../../src/dkim/dkim-signer';
import { newsletter20k, newsletterOfSize } from '../fixtures/newsletters';
import { minifiedEightBit } from '../fixtures/newsletter-corpus';
import { literalRelaxedBody } from '../helpers/dkim-reference';
import type { TestIdentity, TestPki } from '../helpers/pki';
import { nodemailerMessage, nodemailerSigner, opensslSigner, pkijsSigner } from './peers';
import {
  FOCUS_KEYS,
  KB,
  type KeyName,
  type Measurement,
  type Section,
  type Settings,
} from './types';

/** Size of the buffer crypto.sign gets: about what the engine's signed attributes encode to. */
export const SIGNED_ATTRS_BYTES = 320;
const PKI_NAME = { 'RSA-2048': 'rsa2048', 'RSA-3072': 'rsa3072', 'P-256': 'p256', 'P-384': 'p384' };

export type Op = () => Promise<unknown>;
export interface Prepared {
  op: Op;
  /** Describe whether one output is right ("ok" or what is wrong). */
  check: (output: unknown) => Promise<string> | string;
  /** Extra facts known only after the window (cache hit rate). */
  summary?: () => string;
}
export interface Task {
  label: string;
  m: Measurement;
  setup: () => Promise<Prepared>;
}
export interface Plan {
  tasks: Task[];
  /** The 20 KB engine measurement and the crypto.sign one of each key. */
  engine20k: Map<KeyName, Measurement>;
  raw: Map<KeyName, Measurement>;
  hashOf: (k: KeyName) => HashName;
}

export function sizeLabel(bytes: number): string {
  if (bytes >= 1024 * KB) return `${+(bytes / (1024 * KB)).toFixed(1)} MB`;
  return `${+(bytes / KB).toFixed(bytes < 10 * KB ? 1 : 0)} KB`;
}

export function planTasks(s: Settings, pki: TestPki): Plan {
  const testId = (k: KeyName): TestIdentity => pki.identities[PKI_NAME[k] as 'rsa2048'];
  const identities = new Map<KeyName, SigningIdentity>();
  const identity = (k: KeyName): SigningIdentity => {
    let id = identities.get(k);
    if (!id) {
      const t = testId(k);
      const input = { certificate: t.certPem, privateKey: t.keyPem, chain: pki.intermediatePem };
      identities.set(k, (id = loadSigningIdentity(input)));
    }
    return id;
  };
  const hashOf = (k: KeyName): HashName => defaultHash(identity(k));
  const raw20k = newsletter20k();
  const sized = new Map<number, Buffer>([[20 * KB, raw20k]]);
  const rawOfSize = (n: number): Buffer => {
    let b = sized.get(n);
    if (!b) sized.set(n, (b = newsletterOfSize(n)));
    return b;
  };
  const verifyOutput = async (out: unknown): Promise<string> => {
    const r = await verifyMessage(out as Buffer, { trustAnchors: [pki.rootPem] });
    if (r.valid) return 'ok';
    if (r.signatureValid) return `signature ok (${r.errors[0]?.message ?? 'not valid'})`;
    return `BAD: ${r.errors[0]?.message ?? 'signature does not verify'}`;
  };

  const has = (section: Section): boolean => s.sections.includes(section);
  const tasks: Task[] = [];
  const add = (
    label: string,
    m: Omit<Measurement, 'id' | 'ok'>,
    setup: () => Promise<Prepared>,
  ): Measurement => {
    const full: Measurement = {
      id: `${m.section}/${m.subject}/${m.key ?? '-'}/${m.bytes}`,
      ...m,
      ok: false,
    };
    tasks.push({ label, m: full, setup });
    return full;
  };
  const engineTask = (section: Section, k: KeyName, nominal: number): Measurement => {
    const raw = rawOfSize(nominal);
    const hash = hashOf(k);
    const m = {
      section,
      subject: 'engine',
      key: k,
      hash,
      bytes: raw.length,
      concurrency: s.concurrency,
    };
    return add(`engine ${k} ${sizeLabel(raw.length)}`, m, async () => {
      const id = identity(k);
      return { op: () => signMessage(raw, id, { hash, format: 'detached' }), check: verifyOutput };
    });
  };

  // 1 + 2: engine and raw crypto.sign, paired per key so that drift hits both alike.
  const engine20k = new Map<KeyName, Measurement>();
  const raw = new Map<KeyName, Measurement>();
  for (const k of s.keys) {
    if (has('engine')) engine20k.set(k, engineTask('engine', k, 20 * KB));
    if (!has('raw')) continue;
    const hash = hashOf(k);
    const ec = identity(k).keyType === 'ec';
    const m = {
      section: 'raw' as const,
      subject: 'crypto.sign',
      key: k,
      hash,
      bytes: SIGNED_ATTRS_BYTES,
      concurrency: s.concurrency,
      note: ec ? 'ECDSA, DER' : 'PKCS#1 v1.5',
    };
    const task = add(`crypto.sign ${k} ${SIGNED_ATTRS_BYTES} B`, m, async () => {
      // The engine's call: crypto.sign(hash, signedAttrs, key, cb); a bare KeyObject means
      // PKCS#1 v1.5 for RSA and DER-encoded ECDSA.
      const keyOption = identity(k).privateKey!;
      const data = crypto.randomBytes(SIGNED_ATTRS_BYTES);
      const op = (): Promise<Buffer> =>
        new Promise((resolve, reject) =>
          crypto.sign(hash, data, keyOption, (err, sig) => (err ? reject(err) : resolve(sig))),
        );
      const pub = crypto.createPublicKey(keyOption);
      const check = (sig: unknown): string =>
        crypto.verify(hash, data, ec ? { key: pub, dsaEncoding: 'der' } : pub, sig as Buffer)
          ? 'ok'
          : 'BAD: signature does not verify';
      return { op, check };
    });
    raw.set(k, task);
  }

  // 3: body-size scaling (the 20 KB point is the section-1 measurement when there is one).
  const focusKeys = FOCUS_KEYS.filter((k) => s.keys.includes(k));
  for (const k of has('scaling') ? focusKeys : []) {
    for (const n of s.sizes) {
      if (n === 20 * KB && engine20k.has(k)) continue;
      const m = engineTask('scaling', k, n);
      if (n === 20 * KB) engine20k.set(k, m);
    }
  }

  // 4: cache hits: one shared SignatureCache, the same entity, a different To: per message.
  for (const k of has('cache') ? [...focusKeys].reverse() : []) {
    const hash = hashOf(k);
    const m = {
      section: 'cache' as const,
      subject: 'engine + SignatureCache',
      key: k,
      hash,
      bytes: raw20k.length,
      concurrency: s.concurrency,
      note: '64 recipients (To: varies), one signed entity',
    };
    add(`engine ${k} 20 KB, cache hits`, m, async () => {
      const text = raw20k.toString('latin1');
      const variants = Array.from({ length: 64 }, (_, i) => {
        const to = `To: "Reader ${i}" <reader${i}@example.net>`;
        return Buffer.from(text.replace(/^To: .*$/m, to), 'latin1');
      });
      const cache = new SignatureCache(1000);
      const id = identity(k);
      let i = 0;
      return {
        op: () => signMessage(variants[i++ % variants.length], id, { hash, cache }),
        check: verifyOutput,
        summary: () => {
          const hitRate = (100 * cache.hits) / (cache.hits + cache.misses);
          const misses = `${cache.misses} miss${cache.misses === 1 ? '' : 'es'}`;
          return `hit rate ${hitRate.toFixed(2)}% (${misses}, before the window)`;
        },
      };
    });
  }

  // 5: peers, RSA-2048 and P-256, the same 20 KB newsletter.
  if (has('peers')) {
    const base = { section: 'peers' as const, bytes: raw20k.length };
    for (const k of focusKeys) {
      const note = 'given the canonical entity; CMS + a simple multipart/signed wrap';
      const m = { ...base, subject: 'pkijs SignedData', key: k, hash: hashOf(k), note };
      add(`pkijs ${k} 20 KB`, { ...m, concurrency: s.concurrency }, async () => ({
        op: await pkijsSigner(testId(k), pki.intermediatePem, raw20k, hashOf(k)),
        check: verifyOutput,
      }));
    }
    let mailOptions: Awaited<ReturnType<typeof nodemailerMessage>> | undefined;
    const mail = async (): Promise<NonNullable<typeof mailOptions>> =>
      (mailOptions ??= await nodemailerMessage(raw20k));
    const mailBase = { ...base, hash: 'sha256' as const, concurrency: s.peerConcurrency };
    for (const k of focusKeys) {
      const note = 'node-forge; nodemailer builds the MIME per message';
      const m = { ...mailBase, subject: 'nodemailer-smime', key: k, note };
      add(`nodemailer-smime ${k} 20 KB`, m, async () => ({
        op: nodemailerSigner(await mail(), testId(k), pki.intermediatePem),
        check: verifyOutput,
      }));
    }
    const note = 'reference: MIME building only';
    const plain = { ...mailBase, subject: 'nodemailer, no signature', key: null, note };
    add('nodemailer (no signing) 20 KB', plain, async () => ({
      op: nodemailerSigner(await mail(), undefined, pki.intermediatePem),
      check: () => 'unsigned',
    }));
    for (const k of focusKeys) {
      const m = {
        ...mailBase,
        subject: 'openssl cms -sign',
        key: k,
        note: 'a process per message, the entity on stdin',
      };
      add(`openssl cms ${k} 20 KB`, m, async () => ({
        op: opensslSigner(testId(k), pki.chainPath, raw20k),
        check: verifyOutput,
      }));
    }
  }
  // 6: DKIM over the signed message: the body hash, the former line-by-line code as the
  // baseline, and a whole signature (RSA-2048 on the thread pool).
  if (has('dkim')) {
    const base = { section: 'dkim' as const, key: null, hash: 'sha256' as const, concurrency: 1 };
    const sizes = s.quick ? [20 * KB] : [20 * KB, 2048 * KB];
    for (const n of sizes) {
      const body = rawOfSize(n);
      const want = crypto.createHash('sha256').update(literalRelaxedBody(body)).digest('base64');
      const same = (out: unknown) => (out === want ? 'same hash' : 'BAD: a different hash');
      const baseline = { ...base, bytes: body.length, note: 'baseline' };
      add(
        `DKIM body hash, line by line ${sizeLabel(n)}`,
        { ...baseline, subject: 'line by line' },
        async () => ({
          op: async () =>
            crypto.createHash('sha256').update(literalRelaxedBody(body)).digest('base64'),
          check: same,
        }),
      );
      const onePass = { ...base, bytes: body.length, subject: 'one pass' };
      add(`DKIM body hash, one pass ${sizeLabel(n)}`, onePass, async () => ({
        op: async () => relaxedBodyHash(body),
        check: same,
      }));
    }
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = {
      domain: 'example.com',
      selector: 'bench',
      algorithm: 'rsa-sha256' as const,
      privateKey,
    };
    const m = {
      ...base,
      subject: 'dkimSign RSA-2048',
      bytes: raw20k.length,
      concurrency: s.concurrency,
    };
    add('dkimSign RSA-2048 20 KB', m, async () => ({
      op: () => dkimSign(raw20k, key),
      check: (out) =>
        (out as Buffer).subarray(0, 15).toString() === 'DKIM-Signature:' ? 'signed' : 'BAD',
    }));
  }
  // 7: transfer encodings: a 7-bit newsletter against one of the same size whose minified
  // HTML is 8-bit on one long line (re-encoded before signing), per focus key, paired.
  for (const k of has('encodings') ? focusKeys : []) {
    const hash = hashOf(k);
    const eightBit = minifiedEightBit(16_000);
    const bodies = [
      { subject: '7-bit', raw: raw20k, note: 'quoted-printable parts, sent as they are' },
      { subject: '8-bit, long lines', raw: eightBit, note: 'HTML re-encoded for transit' },
    ];
    for (const b of bodies) {
      const m = {
        section: 'encodings' as const,
        subject: b.subject,
        key: k,
        hash,
        bytes: b.raw.length,
        concurrency: s.concurrency,
        note: b.note,
      };
      add(`engine ${k} ${b.subject} ${sizeLabel(b.raw.length)}`, m, async () => {
        const id = identity(k);
        return {
          op: () => signMessage(b.raw, id, { hash, format: 'detached' }),
          check: verifyOutput,
        };
      });
    }
  }
  return { tasks, engine20k, raw, hashOf };
}
