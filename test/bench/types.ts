/** Shapes of the benchmark's options and results (also what `--json` writes). */
import type { HashName } from '../../src';
import type { MachineFacts, Sample } from './measure';

export type KeyName = 'RSA-2048' | 'RSA-3072' | 'P-256' | 'P-384';
export const ALL_KEYS: readonly KeyName[] = ['RSA-2048', 'RSA-3072', 'P-256', 'P-384'];

/** Keys of the scaling, cache and peer sections (when enabled in `keys`). */
export const FOCUS_KEYS: readonly KeyName[] = ['RSA-2048', 'P-256'];

export type Section =
  'engine' | 'raw' | 'scaling' | 'cache' | 'peers' | 'dkim' | 'encodings' | 'custody';
/** The sections a run without `--sections` measures (custody only when named: it takes minutes). */
export const ALL_SECTIONS: readonly Section[] = [
  'engine',
  'raw',
  'scaling',
  'cache',
  'peers',
  'dkim',
  'encodings',
];

/** The end-to-end relay benchmark (relay-bench.ts): run only when asked for by name. */
export const RELAY_SECTION = 'relay';
/** Signing-benchmark sections run only when named in `--sections`. */
export const NAMED_ONLY_SECTIONS: readonly Section[] = ['custody'];
/** Everything `--sections` accepts. */
export const SECTION_NAMES: readonly (Section | typeof RELAY_SECTION)[] = [
  ...ALL_SECTIONS,
  ...NAMED_ONLY_SECTIONS,
  RELAY_SECTION,
];

export const KB = 1024;
export const DEFAULT_SIZES: readonly number[] = [2 * KB, 20 * KB, 200 * KB, 2048 * KB];

export interface BenchOptions {
  /** Measurement window per measurement; default 2500 ms (150 ms with `quick`). */
  durationMs?: number;
  /** Warm-up before each window; default a quarter of the window, 50..1000 ms. */
  warmupMs?: number;
  /** In-flight operations for the engine, crypto.sign and pkijs; default 16. */
  concurrency?: number;
  /** In-flight operations for nodemailer and openssl (CPU-bound / one process each); default 4. */
  peerConcurrency?: number;
  /** Keys for sections 1 and 2; default all four (RSA-2048 and P-256 with `quick`). */
  keys?: KeyName[];
  sections?: Section[];
  /** Message sizes of the scaling section; default 2 KB, 20 KB, 200 KB, 2 MB. */
  sizes?: number[];
  quick?: boolean;
  /** The custody section's own options (it runs only when `sections` names it). */
  custody?: CustodyOptions;
  /** Progress text (no newline added); the CLI passes stderr. */
  log?: (text: string) => void;
}

export interface CustodyOptions {
  /** Added latencies of the remote custodies, ms; default 0, 5, 20 (0, 20 with `quick`). */
  latenciesMs?: number[];
  /**
   * Messages in flight; default the relay's WORKER_CONCURRENCY (32) and 64 (only the first
   * with `quick`).
   */
  concurrency?: number[];
  /** Sessions of the PKCS#11 key's pool; default the relay's PKCS11_SESSIONS (4). */
  pkcs11Sessions?: number;
}

export interface Settings {
  durationMs: number;
  warmupMs: number;
  concurrency: number;
  peerConcurrency: number;
  keys: KeyName[];
  sections: Section[];
  sizes: number[];
  quick: boolean;
}

export interface Measurement extends Partial<Sample> {
  id: string;
  section: Section;
  /** What was measured: engine, crypto.sign, pkijs, nodemailer-smime, openssl cms, ... */
  subject: string;
  key: KeyName | null;
  hash: HashName;
  /** Input size: the raw message (or the signed-attributes-sized buffer for crypto.sign). */
  bytes: number;
  concurrency: number;
  ok: boolean;
  /** Why there is no figure ("n/a" in the table). */
  error?: string;
  /** Outcome of checking one output before the window (signature verified or not). */
  check?: string;
  note?: string;
  /** Input bytes per second ÷ 10^6. */
  mbPerSec?: number;
  /** Peers and cache: ops/s ÷ the engine's 20 KB figure for the same key. */
  vsEngine?: number;
}

export interface Comparison {
  key: KeyName;
  hash: HashName;
  /** Ids of the two measurements compared. */
  engineId?: string;
  rawId?: string;
  engineOpsPerSec?: number;
  rawOpsPerSec?: number;
  /** engine msg/s ÷ raw crypto.sign ops/s. */
  ratio?: number;
  target?: { description: string; pass: boolean };
}

export interface BenchResult {
  machine: MachineFacts;
  settings: Settings;
  measurements: Measurement[];
  comparisons: Comparison[];
  /** Cores other processes kept busy, on average over the whole run (Linux only). */
  backgroundCores?: number;
  /** The custody section, when it ran. */
  custody?: CustodyResult;
  totalMs: number;
}

export type CustodyName = 'sealed' | 'pkcs11' | 'aws-kms';

export interface CustodySettings {
  keys: KeyName[];
  latenciesMs: number[];
  concurrency: number[];
  pkcs11Sessions: number;
  /** Window and warm-up per row: 1500 and 375 ms unless --duration-ms / --warmup-ms say. */
  durationMs: number;
  warmupMs: number;
  /** The relay's defaults the settings were taken from (WORKER_CONCURRENCY, PKCS11_SESSIONS). */
  relayWorkerConcurrency: number;
  relayPkcs11Sessions: number;
  /** Sockets per host of the KMS client's keep-alive agent (the egress guard's agent). */
  kmsSockets: number;
}

export interface CustodyRow extends Partial<Sample> {
  key: KeyName;
  custody: CustodyName;
  /** Added round-trip latency, ms (0 for sealed). */
  latencyMs: number;
  concurrency: number;
  bytes: number;
  ok: boolean;
  error?: string;
  /** Outcome of verifying one output before the window. */
  check?: string;
  /** msg/s ÷ the sealed row of the same key and concurrency. */
  vsSealed?: number;
  /** In-flight limit ÷ added latency: the most this row could do if signing took no time. */
  boundPerSec?: number;
  /** aws-kms: CPU of the fake KMS child per message signed (warm-up and window), µs. */
  fakeKmsCpuUsPerMsg?: number;
  /** aws-kms: Sign requests the fake received per message signed (warm-up and window). */
  kmsSignPerMsg?: number;
  /** aws-kms: other requests (GetPublicKey, …) the fake received meanwhile. */
  kmsOtherRequests?: number;
}

export interface CustodyResult {
  settings: CustodySettings;
  rows: CustodyRow[];
  /** Why a custody's rows are missing (SoftHSM2 not installed, the fake KMS did not start). */
  skipped: { custody: CustodyName; reason: string }[];
  /** Facts about the run: the token's session limit, the KMS requests outside the windows. */
  notes: string[];
}
