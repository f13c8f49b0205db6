/** Shapes of the relay benchmark's options and result (also what `--json` writes for it). */
import type { MachineFacts } from './measure';

export type FlowName = 'unsigned' | 'signed';

export interface RelayOptions {
  /** SMTP client connections submitting at once (one pooled transport each); default 8. */
  connections?: number;
  /** Messages per measured flow; default 5,000 (300 with `quick`). */
  messages?: number;
  /** Messages sent before each flow and not counted; default 200 (50 with `quick`). */
  warmupMessages?: number;
  /**
   * Give every message a body of its own (per-message tokens in its links), so each one is
   * signed afresh; by default only the outer header differs and the relay's signature
   * cache reuses one signature for all of them.
   */
  distinctBodies?: boolean;
  /** Write a CPU profile of the relay child per measured flow into this directory. */
  profileDir?: string;
  quick?: boolean;
  /** Progress text (no newline added); the CLI passes stderr. */
  log?: (text: string) => void;
}

export interface RelaySettings {
  connections: number;
  messages: number;
  warmupMessages: number;
  distinctBodies: boolean;
  quick: boolean;
  /** Size of the base newsletter, bytes (each message adds its X-Bench-Seq header). */
  messageBytes: number;
  key: 'RSA-2048';
  /** The relay's defaults, reported so that the figures can be read. */
  workerConcurrency: number;
  upstreamConnections: number;
  profileDir?: string;
}

/** Average cores each party kept busy while a flow ran. */
export interface CpuShares {
  bench: number;
  relay: number;
  /** Backends of the relay's database (not WAL writer, checkpointer, other databases). */
  postgres?: number;
  /** The whole redis-server (other users of it included). */
  redis?: number;
  /** Everything else on the machine: other tests, background jobs. */
  other?: number;
  /** The relay child's CPU (all threads) per delivered message, µs. */
  relayUsPerMessage: number;
}

/** What one flow recorded while it ran (the input of flowSummary). */
export interface FlowRecord {
  flow: FlowName;
  warmup: boolean;
  /** Prefix of the X-Bench-Seq values of this flow: "<tag>-<n>". */
  tag: string;
  sent: number;
  /** Bench-clock time (performance.now()) at which each seq got its 250, when it did. */
  acceptedAt: Map<number, number>;
  /** Relay message id of each accepted seq. */
  messageIds: Map<number, string>;
  /** Failed submissions: reply or error text → how many. */
  rejections: Map<string, number>;
  /** Bench-clock time the first message was handed to a client. */
  startedAt: number;
  /** Bench-clock time the flow stopped waiting (everything delivered or no progress). */
  endedAt: number;
  cpu: CpuShares;
}

/** What the sink saw of one flow. */
export interface FlowArrivals {
  /** Bench-clock arrival times of each seq (more than one: a duplicate). */
  times: Map<number, number[]>;
  /** Arrivals whose top-level Content-Type is multipart/signed. */
  signed: number;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
}

export interface FlowResult {
  flow: FlowName;
  warmup: boolean;
  sent: number;
  accepted: number;
  rejected: number;
  /** Up to five distinct rejection texts with their counts. */
  rejections: string[];
  /** Accepted messages that arrived at the sink at least once. */
  delivered: number;
  /** Arrivals beyond the first of a message. */
  duplicates: number;
  /** Accepted messages the sink never got. */
  missing: number;
  /** Arrivals of messages whose submission was not accepted. */
  unexpected: number;
  /** Arrivals that were S/MIME signed (multipart/signed). */
  signedArrivals: number;
  /** Accepted per second, first 250 to last 250. */
  intakePerSec?: number;
  /** Delivered per second, first 250 to last first arrival: the sustained throughput. */
  perSec?: number;
  /** Accepted (client got 250) to delivered (sink got it), milliseconds. */
  latencyMs?: LatencySummary;
  /** Wall time from the first submission to the end of waiting, ms. */
  elapsedMs: number;
  cpu: CpuShares;
  /** The relay's own count of the accepted messages by state (from its database). */
  relayStates: Record<string, number>;
  /** One delivered message checked with verifyMessage: "ok", "unsigned" or what is wrong. */
  check: string;
}

export interface ProfileEntry {
  /** Function (file:line) or package/area name. */
  name: string;
  /** Share of the profile's non-idle samples, 0..1. */
  share: number;
  ms: number;
}

export interface ProfileSummary {
  flow: FlowName;
  file: string;
  busyMs: number;
  idleMs: number;
  functions: ProfileEntry[];
  areas: ProfileEntry[];
}

export interface RelayTarget {
  description: string;
  value: string;
  pass: boolean;
}

export interface RelayBenchResult {
  kind: 'relay';
  machine: MachineFacts;
  settings: RelaySettings;
  flows: FlowResult[];
  warmups: FlowResult[];
  /** Signed msg/s ÷ unsigned msg/s. */
  ratio?: number;
  targets: RelayTarget[];
  /** What the relay child wrote to stdout/stderr (LOG_LEVEL=warn), last lines. */
  relayOutput: string[];
  profiles: ProfileSummary[];
  /** Why the run stopped early, if it did. */
  error?: string;
  totalMs: number;
}
