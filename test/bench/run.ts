/**
 * runBench(): builds the test PKI, runs every planned measurement one after another (each:
 * one checked sample output, then warm-up and window) and derives the ratios.
 */
import { performance } from 'node:perf_hooks';
import { createTestPki } from '../helpers/pki';
import { runCustodyBench } from './custody-bench';
import { BackgroundLoad, machineFacts, measure } from './measure';
import { planTasks, type Op } from './plan';
import {
  ALL_KEYS,
  ALL_SECTIONS,
  DEFAULT_SIZES,
  type BenchOptions,
  type BenchResult,
  type Comparison,
  type KeyName,
  type Settings,
} from './types';

export { sizeLabel } from './plan';

const RATIO_TARGET = { key: 'RSA-2048' as KeyName, min: 0.8 };
const RATE_TARGET = { key: 'P-256' as KeyName, min: 15_000 };

export function resolveSettings(o: BenchOptions): Settings {
  const quick = o.quick ?? false;
  const durationMs = o.durationMs ?? (quick ? 150 : 2500);
  return {
    durationMs,
    warmupMs: o.warmupMs ?? Math.min(1000, Math.max(50, Math.round(durationMs / 4))),
    concurrency: o.concurrency ?? 16,
    peerConcurrency: o.peerConcurrency ?? 4,
    keys: o.keys ?? (quick ? ['RSA-2048', 'P-256'] : [...ALL_KEYS]),
    sections: o.sections ?? [...ALL_SECTIONS],
    sizes: o.sizes ?? [...DEFAULT_SIZES],
    quick,
  };
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * One run of `op`, failing on a rejection, a timeout or an uncaught exception meanwhile
 * (nodemailer-smime throws from inside a callback when node-forge cannot read the key).
 */
async function once(op: Op, timeoutMs = 30_000): Promise<unknown> {
  let onUncaught: (e: unknown) => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    onUncaught = (e) => reject(new Error(`uncaught exception: ${message(e)}`));
    process.on('uncaughtException', onUncaught);
    timer = setTimeout(() => reject(new Error(`no result within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([op(), failed]);
  } finally {
    process.off('uncaughtException', onUncaught);
    clearTimeout(timer);
  }
}

export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  const started = performance.now();
  const s = resolveSettings(options);
  const log = options.log ?? ((): void => undefined);
  const machine = machineFacts();
  const background = new BackgroundLoad();
  const pki = await createTestPki();
  const plan = planTasks(s, pki);

  const measureOptions = { durationMs: s.durationMs, warmupMs: s.warmupMs };
  for (const [i, task] of plan.tasks.entries()) {
    log(`[${i + 1}/${plan.tasks.length}] ${task.label} … `);
    const m = task.m;
    try {
      const prepared = await task.setup();
      m.check = await prepared.check(await once(prepared.op));
      const sample = await measure(prepared.op, { ...measureOptions, concurrency: m.concurrency });
      Object.assign(m, sample, { ok: true, mbPerSec: (sample.opsPerSec * m.bytes) / 1e6 });
      if (prepared.summary) m.note = [m.note, prepared.summary()].filter(Boolean).join('; ');
      log(`${Math.round(sample.opsPerSec).toLocaleString('en-US')}/s\n`);
    } catch (e) {
      m.error = message(e);
      log(`n/a (${m.error})\n`);
    }
  }

  // The custody section: its own rows, keys and child processes (custody-bench.ts).
  const custody = s.sections.includes('custody')
    ? await runCustodyBench(options, pki, log)
    : undefined;

  const comparisons: Comparison[] = [];
  for (const k of s.keys) {
    const e = plan.engine20k.get(k);
    const r = plan.raw.get(k);
    const c: Comparison = { key: k, hash: plan.hashOf(k), engineId: e?.id, rawId: r?.id };
    if (e?.ok) c.engineOpsPerSec = e.opsPerSec;
    if (r?.ok) c.rawOpsPerSec = r.opsPerSec;
    if (c.engineOpsPerSec && c.rawOpsPerSec) c.ratio = c.engineOpsPerSec / c.rawOpsPerSec;
    if (k === RATIO_TARGET.key && c.ratio !== undefined) {
      const pass = c.ratio >= RATIO_TARGET.min;
      c.target = { description: `engine/raw ≥ ${RATIO_TARGET.min.toFixed(2)}`, pass };
    }
    if (k === RATE_TARGET.key && c.engineOpsPerSec !== undefined) {
      const pass = c.engineOpsPerSec >= RATE_TARGET.min;
      c.target = { description: `≥ ${RATE_TARGET.min.toLocaleString('en-US')} msg/s`, pass };
    }
    comparisons.push(c);
  }
  const measurements = plan.tasks.map((t) => t.m);
  for (const m of measurements) {
    const e = m.key ? plan.engine20k.get(m.key) : undefined;
    if ((m.section === 'peers' || m.section === 'cache') && m.ok && e?.ok && e.opsPerSec) {
      m.vsEngine = (m.opsPerSec ?? 0) / e.opsPerSec;
    }
  }
  return {
    machine,
    settings: s,
    measurements,
    comparisons,
    backgroundCores: background.cores(),
    ...(custody ? { custody } : {}),
    totalMs: performance.now() - started,
  };
}
