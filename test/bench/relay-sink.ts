/**
 * The loopback upstream of the relay benchmark: accepts every message, notes when (bench
 * clock) each X-Bench-Seq arrived and whether it came signed, and keeps one message per flow
 * for a full signature check. Nothing else is stored, so 10,000+ messages cost little memory.
 */
import { performance } from 'node:perf_hooks';
import { SMTPServer } from 'smtp-server';
import type { FlowArrivals } from './relay-types';

/** `X-Bench-Seq: <tag>-<n>` in the outer header block. */
export const SEQ_HEADER = 'X-Bench-Seq';
const SEQ = /^X-Bench-Seq:[ \t]*([a-z][a-z0-9-]*)-(\d+)[ \t]*\r?$/im;
const SIGNED = /^Content-Type:[ \t]*multipart\/signed/im;

/** The outer header block of a message (up to the first empty line). */
export function headerOf(raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n');
  return raw.subarray(0, end >= 0 ? end + 2 : Math.min(raw.length, 16_384)).toString('latin1');
}

/** The tag and number of a message's X-Bench-Seq header. */
export function seqOf(header: string): { tag: string; n: number } | undefined {
  const m = SEQ.exec(header);
  return m ? { tag: m[1], n: Number(m[2]) } : undefined;
}

export interface BenchSink {
  port: number;
  /** What arrived for the tag so far (a live view). */
  arrivals(tag: string): FlowArrivals;
  /** Arrivals of one tag, duplicates included. */
  count(tag: string): number;
  /** The first message that arrived for the tag. */
  sample(tag: string): Buffer | undefined;
  /** Messages without a readable X-Bench-Seq header. */
  unknown: number;
  stop(): Promise<void>;
}

export async function startBenchSink(): Promise<BenchSink> {
  const flows = new Map<string, FlowArrivals & { count: number; sample?: Buffer }>();
  const flow = (tag: string): FlowArrivals & { count: number; sample?: Buffer } => {
    let f = flows.get(tag);
    if (!f) flows.set(tag, (f = { times: new Map(), signed: 0, count: 0 }));
    return f;
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: 0,
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const at = performance.now();
        const raw = Buffer.concat(chunks);
        const header = headerOf(raw);
        const seq = seqOf(header);
        if (!seq) {
          sink.unknown++;
        } else {
          const f = flow(seq.tag);
          f.count++;
          f.sample ??= raw;
          if (SIGNED.test(header)) f.signed++;
          const times = f.times.get(seq.n);
          if (times) times.push(at);
          else f.times.set(seq.n, [at]);
        }
        done(null, 'ok');
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const sink: BenchSink = {
    port: (server.server.address() as { port: number }).port,
    arrivals: (tag) => flow(tag),
    count: (tag) => flows.get(tag)?.count ?? 0,
    sample: (tag) => flows.get(tag)?.sample,
    unknown: 0,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
  return sink;
}
