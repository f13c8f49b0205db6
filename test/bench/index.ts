/**
 * `npm run bench [-- options]`: the signing benchmark. Prints the tables to stdout, progress to
 * stderr; exits 0 whatever the figures are (targets are reported as PASS/MISS, not enforced).
 *
 *   --json FILE          also write the result object as JSON
 *   --quick              smoke run: 150 ms windows, RSA-2048 and P-256 only
 *   --duration-ms N      measurement window per measurement (default 2500)
 *   --warmup-ms N        warm-up before each window (default a quarter of the window, ≤ 1000)
 *   --concurrency N      in-flight signMessage / crypto.sign / pkijs operations (default 16)
 *   --peer-concurrency N in-flight nodemailer and openssl operations (default 4)
 *   --keys LIST          comma-separated: RSA-2048,RSA-3072,P-256,P-384
 *   --sections LIST      comma-separated: engine,raw,scaling,cache,peers
 */
import { writeFileSync } from 'node:fs';
import { renderReport } from './report';
import { runBench } from './run';
import { ALL_KEYS, ALL_SECTIONS, type BenchOptions, type KeyName, type Section } from './types';

export { runBench } from './run';
export { renderReport } from './report';
export type * from './types';

const USAGE =
  'usage: npm run bench -- [--json FILE] [--quick] [--duration-ms N] [--warmup-ms N] ' +
  '[--concurrency N] [--peer-concurrency N] [--keys RSA-2048,P-256,...] [--sections engine,raw,...]';

function list<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value.split(',').map((v) => v.trim());
  for (const item of items) {
    if (!allowed.includes(item as T))
      throw new Error(`unknown ${what} "${item}"; use ${allowed.join(', ')}`);
  }
  return items as T[];
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer`);
  return n;
}

export function parseArgs(argv: string[]): BenchOptions & { json?: string } {
  const o: BenchOptions & { json?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
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
        o.sections = list<Section>(value(), ALL_SECTIONS, 'section');
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  return o;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const result = await runBench({ ...options, log: (text) => process.stderr.write(text) });
  process.stdout.write(renderReport(result));
  if (options.json) {
    writeFileSync(options.json, JSON.stringify(result, null, 2) + '\n');
    console.error(`JSON written to ${options.json}`);
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
