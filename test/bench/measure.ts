/**
 * Closed-loop throughput measurement: `concurrency` workers each keep one operation in flight.
 * After a warm-up, the window opens at the first completion past the warm-up deadline and
 * closes at the first completion past the window deadline; ops/s = completions ÷ window.
 * CPU is the process's user+system time (main thread and libuv threadpool) plus the CPU of
 * child processes reaped meanwhile (Linux /proc/self/stat cutime+cstime), per completion.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';

export interface MeasureOptions {
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  /** Give up (and report an error) when the measurement has not finished after this. */
  timeoutMs?: number;
}

export interface Sample {
  count: number;
  elapsedMs: number;
  opsPerSec: number;
  /** Own process CPU (incl. threadpool threads) per completed operation, µs. */
  cpuUsPerOp: number;
  /** CPU of reaped child processes per completed operation, µs (0 when none ran). */
  childCpuUsPerOp: number;
  /** Average number of busy cores over the window (all CPU ÷ wall time). */
  coresBusy: number;
  /**
   * Cores kept busy by other processes meanwhile (Linux /proc/stat busy time minus ours ÷ wall
   * time). Anything much above 0 means the figure was measured on a shared, loaded machine.
   */
  backgroundCores?: number;
}

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // not POSIX: keep the usual 100 Hz
}

/** CPU µs of reaped children (Linux only; 0 elsewhere). */
export function childCpuUs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'latin1');
    // Fields after the parenthesised command name; cutime and cstime are fields 16 and 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[13]) + Number(fields[14]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / clockTicks : 0;
  } catch {
    return 0;
  }
}

/** CPU µs of this process: main thread and every other thread (libuv threadpool, GC). */
export function ownCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Busy CPU µs of the whole machine, all CPUs (Linux only; undefined elsewhere). */
export function machineBusyUs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0];
    // cpu  user nice system idle iowait irq softirq steal ...
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
    return Number.isFinite(busy) ? (busy * 1e6) / clockTicks : undefined;
  } catch {
    return undefined;
  }
}

/** Average cores used by other processes between two snapshots. */
export class BackgroundLoad {
  private readonly busy = machineBusyUs();
  private readonly ours = ownCpuUs() + childCpuUs();
  private readonly t = performance.now();

  /** undefined where /proc/stat is not available. */
  cores(): number | undefined {
    const busy = machineBusyUs();
    if (busy === undefined || this.busy === undefined) return undefined;
    const ours = ownCpuUs() + childCpuUs() - this.ours;
    const wallUs = (performance.now() - this.t) * 1000;
    return Math.max(0, (busy - this.busy - ours) / wallUs);
  }
}

/** Runs `op` in a closed loop as described at the top of this file. */
export async function measure(op: () => Promise<unknown>, o: MeasureOptions): Promise<Sample> {
  let phase: 'warmup' | 'measure' | 'done' = 'warmup';
  let count = 0;
  let windowStart = 0;
  let windowEnd = 0;
  let cpuStart = 0;
  let childStart = 0;
  let cpuEnd = 0;
  let childEnd = 0;
  let background: BackgroundLoad | undefined;
  let backgroundCores: number | undefined;
  let failure: unknown;
  const t0 = performance.now();
  const warmEnd = t0 + o.warmupMs;
  let deadline = Infinity;

  const worker = async (): Promise<void> => {
    while (phase !== 'done') {
      try {
        await op();
      } catch (e) {
        failure ??= e; // the first failure wins; it stops every worker
        phase = 'done';
        return;
      }
      const t = performance.now();
      if (phase === 'warmup') {
        if (t >= warmEnd) {
          phase = 'measure';
          windowStart = t;
          deadline = t + o.durationMs;
          cpuStart = ownCpuUs();
          childStart = childCpuUs();
          background = new BackgroundLoad();
        }
      } else if (phase === 'measure') {
        count++;
        if (t >= deadline) {
          phase = 'done';
          windowEnd = t;
          cpuEnd = ownCpuUs();
          childEnd = childCpuUs();
          backgroundCores = background?.cores();
        }
      }
    }
  };

  const workers = Promise.all(Array.from({ length: o.concurrency }, worker));
  const timeoutMs = o.timeoutMs ?? o.warmupMs + o.durationMs + 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([workers, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    phase = 'done';
    throw new Error(`no result within ${timeoutMs} ms`);
  }
  if (failure !== undefined) throw failure;
  const elapsedMs = windowEnd - windowStart;
  const own = cpuEnd - cpuStart;
  const children = childEnd - childStart;
  return {
    count,
    elapsedMs,
    opsPerSec: (count * 1000) / elapsedMs,
    cpuUsPerOp: own / count,
    childCpuUsPerOp: children / count,
    coresBusy: (own + children) / (elapsedMs * 1000),
    backgroundCores,
  };
}

export interface MachineFacts {
  node: string;
  platform: string;
  cpuModel: string;
  cpuCount: number;
  /** os.availableParallelism() (may be lower than the CPU count under a cgroup limit). */
  availableParallelism: number;
  uvThreadpoolSize: string;
  /** os.loadavg() when the run started: 1, 5 and 15 minutes. */
  loadAverage: number[];
  opensslLibrary: string;
  opensslCli: string;
  date: string;
}

export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  let opensslCli = 'not found';
  try {
    opensslCli = execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as "not found"
  }
  const uv = process.env.UV_THREADPOOL_SIZE;
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    availableParallelism: os.availableParallelism(),
    uvThreadpoolSize: uv ? uv : '4 (default, unset)',
    loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100),
    opensslLibrary: process.versions.openssl,
    opensslCli,
    date: new Date().toISOString(),
  };
}
