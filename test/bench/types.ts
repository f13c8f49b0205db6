/** Shapes of the benchmark's options and results (also what `--json` writes). */
import type { HashName } from '../../src';
import type { MachineFacts, Sample } from './measure';

export type KeyName = 'RSA-2048' | 'RSA-3072' | 'P-256' | 'P-384';
export const ALL_KEYS: readonly KeyName[] = ['RSA-2048', 'RSA-3072', 'P-256', 'P-384'];

/** Keys of the scaling, cache and peer sections (when enabled in `keys`). */
export const FOCUS_KEYS: readonly KeyName[] = ['RSA-2048', 'P-256'];

export type Section = 'engine' | 'raw' | 'scaling' | 'cache' | 'peers' | 'dkim' | 'encodings';
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
/** Everything `--sections` accepts. */
export const SECTION_NAMES: readonly (Section | typeof RELAY_SECTION)[] = [
  ...ALL_SECTIONS,
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
  /** Progress text (no newline added); the CLI passes stderr. */
  log?: (text: string) => void;
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
  totalMs: number;
}
