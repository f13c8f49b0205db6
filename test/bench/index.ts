/**
 * `npm run bench [-- options]`: the signing benchmark, and with `relay` (or `--sections relay`)
 * the end-to-end relay benchmark. Prints the tables to stdout, progress to stderr; exits 0
 * whatever the figures are (targets are reported as PASS/MISS, not enforced).
 *
 *   --json FILE          also write the result object as JSON
 *   --quick              smoke run: 150 ms windows, RSA-2048 and P-256 only
 *   --duration-ms N      measurement window per measurement (default 2500)
 *   --warmup-ms N        warm-up before each window (default a quarter of the window, ≤ 1000)
 *   --concurrency N      in-flight signMessage / crypto.sign / pkijs operations (default 16)
 *   --peer-concurrency N in-flight nodemailer and openssl operations (default 4)
 *   --keys LIST          comma-separated: RSA-2048,RSA-3072,P-256,P-384
 *   --sections LIST      comma-separated: engine,raw,scaling,cache,peers,dkim,encodings,custody,relay
 *                        (without it: every section but custody and relay, which run only when named)
 *   custody section (the signing engine per key custody: sealed, pkcs11 on SoftHSM2, fake AWS KMS):
 *   --custody-latencies LIST    added round trips of pkcs11 and aws-kms, ms (default 0,5,20)
 *   --custody-concurrency LIST  messages in flight (default WORKER_CONCURRENCY 32, and 64)
 *   --pkcs11-sessions N         sessions of the PKCS#11 key's pool (default PKCS11_SESSIONS, 4)
 *   (its window is 1500 ms after 375 ms warm-up unless --duration-ms / --warmup-ms; keys
 *   RSA-2048 and P-256 unless --keys)
 *   relay                the relay section only (same as --sections relay); its options:
 *   --connections N      SMTP client connections (default 8)
 *   --messages N         messages per flow (default 5000; 300 with --quick)
 *   --warmup-messages N  messages before each flow, not counted (default 200; 50 with --quick)
 *   --distinct-bodies    a different body per message, so each is signed (no signature reuse)
 *   --relay-profile DIR  write a CPU profile of the relay per flow to DIR and summarise it
 *
 * Without `relay` among the sections only the signing benchmark runs. With `--json`, the file
 * holds that benchmark's result object, or { signing, relay } when both ran.
 */
import { writeFileSync } from 'node:fs';
import { runRelayBench } from './relay-bench';
import { renderRelayReport } from './relay-report';
import type { RelayOptions } from './relay-types';
import { renderReport } from './report';
import { runBench } from './run';
import {
  ALL_KEYS,
  RELAY_SECTION,
  SECTION_NAMES,
  type BenchOptions,
  type KeyName,
  type Section,
} from './types';

export { runBench } from './run';
export { renderReport } from './report';
export { runRelayBench } from './relay-bench';
export { renderRelayReport } from './relay-report';
export type * from './types';
export type * from './relay-types';

/** What the command line asks for: `relay` set means the relay section runs. */
export interface CliOptions extends BenchOptions {
  json?: string;
  relay?: Omit<RelayOptions, 'quick' | 'log'>;
}

const USAGE =
  'usage: npm run bench -- [--json FILE] [--quick] [--duration-ms N] [--warmup-ms N] ' +
  '[--concurrency N] [--peer-concurrency N] [--keys RSA-2048,P-256,...] [--sections engine,raw,...]\n' +
  '       npm run bench -- --sections custody [--custody-latencies 0,5,20] ' +
  '[--custody-concurrency 32,64] [--pkcs11-sessions N] [--duration-ms N] [--keys ...]\n' +
  '       npm run bench -- relay [--json FILE] [--quick] [--connections N] [--messages N] ' +
  '[--warmup-messages N] [--distinct-bodies] [--relay-profile DIR]';

function list<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value.split(',').map((v) => v.trim());
  for (const item of items) {
    if (!allowed.includes(item as T))
      throw new Error(`unknown ${what} "${item}"; use ${allowed.join(', ')}`);
  }
  return items as T[];
}

function positives(value: string, flag: string, orZero = false): number[] {
  return value.split(',').map((v) => positive(v.trim(), flag, orZero));
}

function positive(value: string, flag: string, orZero = false): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (orZero ? 0 : 1)) {
    throw new Error(`${flag} needs a ${orZero ? 'whole number' : 'positive integer'}`);
  }
  return n;
}

export function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = {};
  let named: string[] | undefined;
  const relay: NonNullable<CliOptions['relay']> = {};
  const custody: NonNullable<CliOptions['custody']> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case RELAY_SECTION:
        named = [...(named ?? []), RELAY_SECTION];
        break;
      case '--json':
        o.json = value();
        break;
      case '--quick':
        o.quick = true;
        break;
      case '--duration-ms':
        o.durationMs = positive(value(), flag);
        break;
      case '--warmup-ms':
        o.warmupMs = positive(value(), flag);
        break;
      case '--concurrency':
        o.concurrency = positive(value(), flag);
        break;
      case '--peer-concurrency':
        o.peerConcurrency = positive(value(), flag);
        break;
      case '--keys':
        o.keys = list<KeyName>(value(), ALL_KEYS, 'key');
        break;
      case '--sections':
        named = [...(named ?? []), ...list(value(), SECTION_NAMES, 'section')];
        break;
      case '--custody-latencies':
        custody.latenciesMs = positives(value(), flag, true);
        break;
      case '--custody-concurrency':
        custody.concurrency = positives(value(), flag);
        break;
      case '--pkcs11-sessions':
        custody.pkcs11Sessions = positive(value(), flag);
        if (custody.pkcs11Sessions > 64) throw new Error(`${flag} must be at most 64`);
        break;
      case '--connections':
        relay.connections = positive(value(), flag);
        break;
      case '--messages':
        relay.messages = positive(value(), flag);
        break;
      case '--warmup-messages':
        relay.warmupMessages = positive(value(), flag, true);
        break;
      case '--distinct-bodies':
        relay.distinctBodies = true;
        break;
      case '--relay-profile':
        relay.profileDir = value();
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  if (named) {
    o.sections = [...new Set(named.filter((n) => n !== RELAY_SECTION))] as Section[];
    if (named.includes(RELAY_SECTION)) o.relay = relay;
  }
  const custodyFlags = Object.keys(custody);
  if (custodyFlags.length > 0) {
    if (!o.sections?.includes('custody')) {
      throw new Error(
        `${custodyFlags.join(', ')}: only for the custody section (--sections custody)`,
      );
    }
    o.custody = custody;
  }
  const relayFlags = Object.keys(relay);
  if (!o.relay && relayFlags.length > 0) {
    throw new Error(
      `${relayFlags.join(', ')}: only for the relay section (npm run bench -- relay)`,
    );
  }
  return o;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  let options: CliOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const log = (text: string): void => void process.stderr.write(text);
  const { relay, json, ...signingOptions } = options;
  const results: { signing?: unknown; relay?: unknown } = {};
  if (!options.sections || options.sections.length > 0) {
    const result = await runBench({ ...signingOptions, log });
    process.stdout.write(renderReport(result));
    results.signing = result;
  }
  if (relay) {
    const result = await runRelayBench({ ...relay, quick: options.quick, log });
    if (results.signing) process.stdout.write('\n');
    process.stdout.write(renderRelayReport(result));
    results.relay = result;
  }
  if (json) {
    const both = results.signing && results.relay;
    const content = both ? results : (results.signing ?? results.relay);
    writeFileSync(json, JSON.stringify(content, null, 2) + '\n');
    console.error(`JSON written to ${json}`);
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
