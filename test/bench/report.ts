/** Renders a BenchResult as the plain-text tables `npm run bench` prints. */
import { sizeLabel } from './plan';
import {
  FOCUS_KEYS,
  type BenchResult,
  type CustodyResult,
  type CustodyRow,
  type Measurement,
} from './types';

/** Background load (cores used by other processes) above which a figure is flagged. */
const BUSY = 0.25;

/** Columns are `name` (left-aligned) or `>name` (right-aligned). */
export function table(columns: string[], rows: string[][]): string {
  const right = columns.map((c) => c.startsWith('>'));
  const headers = columns.map((c) => c.replace(/^>/, ''));
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (right[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function rate(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return 'n/a';
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  return n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

const int = (n: number | undefined): string =>
  n === undefined || !Number.isFinite(n) ? '' : Math.round(n).toLocaleString('en-US');
const fixed = (n: number | undefined, digits = 2): string =>
  n === undefined || !Number.isFinite(n) ? '' : n.toFixed(digits);
const times = (n: number | undefined): string => (n === undefined ? '' : `${n.toFixed(2)}×`);

const ops = (m: Measurement | undefined): string => (m ? (m.ok ? rate(m.opsPerSec) : 'n/a') : '');
const cores = (m: Measurement | undefined): string => (m?.ok ? fixed(m.coresBusy) : '');
function cpu(m: Measurement | undefined): string {
  if (!m?.ok) return '';
  const own = int(m.cpuUsPerOp);
  return m.childCpuUsPerOp ? `${own} + ${int(m.childCpuUsPerOp)} child` : own;
}
/** Cores other processes used during the window(s), flagged with "!" above BUSY. */
function other(...ms: (Pick<Measurement, 'ok' | 'backgroundCores'> | undefined)[]): string {
  const values = ms.filter((m) => m?.ok).map((m) => m?.backgroundCores ?? NaN);
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) return '';
  const worst = Math.max(...values);
  return `${worst.toFixed(2)}${worst > BUSY ? '!' : ''}`;
}

function header(r: BenchResult): string[] {
  const { machine: mc, settings: s } = r;
  const quick = s.quick ? ' (quick)' : '';
  const facts: [string, string][] = [
    ['date', mc.date],
    ['node', `${mc.node} (OpenSSL ${mc.opensslLibrary}), ${mc.platform}`],
    [
      'cpu',
      `${mc.cpuCount} × ${mc.cpuModel}, os.availableParallelism() ${mc.availableParallelism}`,
    ],
    ['threadpool', `UV_THREADPOOL_SIZE=${mc.uvThreadpoolSize}; the same for every measurement`],
    ['openssl CLI', mc.opensslCli],
    ['load', `load average at start ${mc.loadAverage.join(' ')}`],
    ['', `other processes used ${fixed(r.backgroundCores)} cores on average during the run`],
    ['method', `${s.durationMs} ms window after ${s.warmupMs} ms warm-up${quick}, per measurement`],
    ['', 'msg/s, ops/s = completions ÷ window; each output was checked once before its window'],
    ['', 'CPU µs = process user+sys (main thread + threadpool) ÷ completions (+ reaped children)'],
    [
      '',
      'cores = that CPU ÷ wall time; other = cores used by other processes meanwhile (! > 0.25)',
    ],
  ];
  const out = ['smime-relay signing benchmark', ...facts.map(([k, v]) => `${k.padEnd(12)}${v}`)];
  if ((r.backgroundCores ?? 0) > BUSY) {
    out.push(`${''.padEnd(12)}WARNING: the machine was not idle; figures marked ! are depressed`);
  }
  return out;
}

export function renderReport(r: BenchResult): string {
  const s = r.settings;
  const out = header(r);
  const problems: string[] = [];
  const noteProblems = (label: string, m: Measurement | undefined): void => {
    if (!m) return;
    if (!m.ok) problems.push(`${label}: n/a (${m.error ?? 'failed'})`);
    else if (m.check && !['ok', 'unsigned', 'same hash', 'signed'].includes(m.check))
      problems.push(`${label}: output check: ${m.check}`);
  };
  const byId = (id: string | undefined): Measurement | undefined =>
    r.measurements.find((m) => m.id === id);

  const compared = r.comparisons.some((c) => byId(c.engineId) || byId(c.rawId));
  if (compared) {
    out.push(
      '',
      `1–2. Engine vs raw crypto.sign — 20 KB newsletter, detached, default hash, ` +
        `${s.concurrency} in flight`,
      '     raw = async crypto.sign(hash, 320-byte buffer, same KeyObject, same padding/encoding)',
    );
    const engineRows = r.comparisons.map((c) => {
      const e = byId(c.engineId);
      const w = byId(c.rawId);
      noteProblems(`engine ${c.key}`, e);
      noteProblems(`crypto.sign ${c.key}`, w);
      const target = c.target ? `${c.target.description}: ${c.target.pass ? 'PASS' : 'MISS'}` : '';
      // prettier-ignore
      return [c.key, c.hash, ops(e), cpu(e), cores(e), ops(w), cpu(w), cores(w), other(e, w),
        fixed(c.ratio), target];
    });
    // prettier-ignore
    out.push(table(['key', 'hash', '>engine msg/s', '>CPU µs/msg', '>cores', '>sign/s', '>CPU µs/op',
      '>cores', '>other', '>engine/raw', 'target'], engineRows));
  }

  const scaleRows: Measurement[] = [];
  for (const k of s.sections.includes('scaling') ? FOCUS_KEYS : []) {
    const reused = byId(r.comparisons.find((c) => c.key === k)?.engineId);
    const rows = r.measurements.filter((m) => m.section === 'scaling' && m.key === k);
    if (reused?.section === 'engine' && s.sizes.includes(20 * 1024)) rows.push(reused);
    scaleRows.push(...rows.sort((x, y) => x.bytes - y.bytes));
  }
  if (scaleRows.length > 0) {
    out.push('', `3. Body-size scaling — engine, detached, ${s.concurrency} in flight`);
    const rows = scaleRows.map((m) => {
      if (m.section === 'scaling') noteProblems(`engine ${m.key} ${sizeLabel(m.bytes)}`, m);
      const size = `${sizeLabel(m.bytes)}${m.section === 'scaling' ? '' : ' (= table 1)'}`;
      const mb = m.ok ? fixed(m.mbPerSec, 1) : '';
      return [m.key ?? '', size, ops(m), mb, cpu(m), cores(m), other(m)];
    });
    const columns = ['key', 'message', '>msg/s', '>MB/s', '>CPU µs/msg', '>cores', '>other'];
    out.push(table(columns, rows));
  }

  const cache = r.measurements.filter((m) => m.section === 'cache');
  if (cache.length > 0) {
    out.push(
      '',
      `4. Cache hits — one shared SignatureCache, same 20 KB entity, To: varies, ` +
        `${s.concurrency} in flight; "vs engine" = ÷ table 1 (no cache)`,
    );
    const rows = cache.map((m) => {
      noteProblems(`cache ${m.key}`, m);
      return [m.key ?? '', ops(m), times(m.vsEngine), cpu(m), cores(m), other(m), m.note ?? ''];
    });
    const columns = ['key', '>msg/s', '>vs engine', '>CPU µs/msg', '>cores', '>other', 'note'];
    out.push(table(columns, rows));
  }

  const peers = r.measurements.filter((m) => m.section === 'peers');
  if (peers.length > 0) {
    out.push(
      '',
      '5. Peers — same 20 KB newsletter; "vs engine" = peer msg/s ÷ engine msg/s (table 1, same key)',
    );
    const rows = peers.map((m) => {
      const output = m.ok ? (m.check ?? '') : `n/a (${m.error ?? 'failed'})`;
      // prettier-ignore
      return [m.subject, m.key ?? '—', String(m.concurrency), ops(m), times(m.vsEngine), cpu(m),
        cores(m), other(m), output, m.note ?? ''];
    });
    // prettier-ignore
    out.push(table(['peer', 'key', '>in flight', '>msg/s', '>vs engine', '>CPU µs/msg', '>cores',
      '>other', 'output', 'note'], rows));
  }

  const dkim = r.measurements.filter((m) => m.section === 'dkim');
  if (dkim.length > 0) {
    out.push(
      '',
      '6. DKIM — the relaxed body hash (one pass vs the former line-by-line code, one at a time) ' +
        'and a whole DKIM signature; "vs baseline" = ÷ line by line, same size',
    );
    const rows = dkim.map((m) => {
      noteProblems(`dkim ${m.subject}`, m);
      const baseline = dkim.find((b) => b.subject === 'line by line' && b.bytes === m.bytes);
      const ratio =
        m.subject === 'one pass' && m.ok && baseline?.ok
          ? (m.opsPerSec ?? 0) / (baseline.opsPerSec ?? 1)
          : undefined;
      // prettier-ignore
      return [m.subject, sizeLabel(m.bytes), String(m.concurrency), ops(m), times(ratio), cpu(m),
        cores(m), other(m), m.ok ? (m.check ?? '') : `n/a (${m.error ?? 'failed'})`];
    });
    // prettier-ignore
    out.push(table(['what', 'message', '>in flight', '>op/s', '>vs baseline', '>CPU µs/op', '>cores',
      '>other', 'output'], rows));
  }

  const encodings = r.measurements.filter((m) => m.section === 'encodings');
  if (encodings.length > 0) {
    out.push(
      '',
      '7. Transfer encodings — engine, detached: a 7-bit newsletter vs one whose minified HTML ' +
        'is 8-bit on one long line (re-encoded before signing); "vs 7-bit" = CPU per KB ÷ the ' +
        '7-bit one, same key (1.0 = as cheap per byte)',
    );
    const perKb = (m: Measurement) =>
      m.ok && m.cpuUsPerOp !== undefined ? m.cpuUsPerOp / (m.bytes / 1024) : undefined;
    const rows = encodings.map((m) => {
      noteProblems(`encodings ${m.key} ${m.subject}`, m);
      const seven = encodings.find((b) => b.key === m.key && b.subject === '7-bit');
      const [mine, base] = [perKb(m), seven ? perKb(seven) : undefined];
      const ratio = mine !== undefined && base !== undefined ? mine / base : undefined;
      // prettier-ignore
      return [m.key ?? '', m.subject, sizeLabel(m.bytes), ops(m), cpu(m), fixed(mine), times(ratio),
        cores(m), other(m), m.ok ? (m.check ?? '') : `n/a (${m.error ?? 'failed'})`];
    });
    // prettier-ignore
    out.push(table(['key', 'message', 'size', '>msg/s', '>CPU µs/msg', '>CPU µs/KB', '>vs 7-bit',
      '>cores', '>other', 'output'], rows));
  }

  if (r.custody) out.push('', ...renderCustody(r.custody, problems));

  const busy = [...r.measurements, ...(r.custody?.rows ?? [])].filter(
    (m) => (m.backgroundCores ?? 0) > BUSY,
  );
  if (busy.length > 0) {
    const worst = Math.max(...busy.map((m) => m.backgroundCores ?? 0));
    problems.push(
      `other processes used more than ${BUSY} cores during ${busy.length} of ` +
        `${r.measurements.length + (r.custody?.rows.length ?? 0)} windows (up to ${fixed(worst)})`,
    );
  }
  if (problems.length > 0) out.push('', 'Problems:', ...problems.map((p) => `  - ${p}`));
  out.push('', `Total wall time: ${(r.totalMs / 1000).toFixed(1)} s`);
  return out.join('\n') + '\n';
}

/** Section 8: the signing engine per key custody (custody-bench.ts). */
export function renderCustody(c: CustodyResult, problems: string[] = []): string[] {
  const s = c.settings;
  const sessions = s.pkcs11Sessions;
  const out = [
    '8. Key custody — engine, detached, 20 KB newsletter with a distinct body per message, no ' +
      `signature cache; ${s.durationMs} ms window after ${s.warmupMs} ms warm-up per row`,
    `   in flight: signMessage calls at once (the relay's WORKER_CONCURRENCY is ` +
      `${s.relayWorkerConcurrency}); "vs sealed" = msg/s ÷ the sealed row, same key and in flight`,
    '   sealed:  the key in memory, node:crypto on the thread pool (the baseline)',
    `   pkcs11:  a real SoftHSM2 token in this process (pkcs11js, C_Sign on the thread pool), a ` +
      `pool of ${sessions} sessions (PKCS11_SESSIONS, default ${s.relayPkcs11Sessions});`,
    '            its added latency is SIMULATED: a delay before each real SoftHSM signature that ' +
      `holds one of the ${sessions} session slots, as a`,
    "            network HSM's C_Sign holds its session for the round trip (the libuv thread such " +
      'a call would also block is not simulated)',
    `   aws-kms: AwsKmsKeys (AWS SDK, SigV4, the egress guard's agent: ${s.kmsSockets} sockets) ` +
      'against the fake KMS in a child process, which waits',
    '            the added latency before answering; its CPU is under "fake KMS", not in CPU µs/msg',
    '   bound = min(in flight, sessions or sockets) ÷ added latency: the rate if signing took no ' +
      'time; CPU µs/msg = this process (SoftHSM included)',
    '   per message in the window; fake KMS µs/msg and Sign/msg: per message signed, warm-up and ' +
      'window',
  ];
  for (const x of c.skipped) out.push(`   SKIPPED ${x.custody}: ${x.reason}`);
  const latency = (m: CustodyRow): string => {
    if (m.custody === 'sealed') return '—';
    return m.custody === 'pkcs11' && m.latencyMs > 0
      ? `${m.latencyMs} simulated`
      : `${m.latencyMs}`;
  };
  const rows = c.rows.map((m) => {
    const label = `custody ${m.key} ${m.custody} +${m.latencyMs} ms, ${m.concurrency} in flight`;
    if (!m.ok) problems.push(`${label}: n/a (${m.error ?? 'failed'})`);
    else if (m.check !== 'ok') problems.push(`${label}: output check: ${m.check ?? 'none'}`);
    if (m.kmsSignPerMsg !== undefined && Math.abs(m.kmsSignPerMsg - 1) > 1e-9) {
      problems.push(`${label}: ${fixed(m.kmsSignPerMsg, 3)} KMS Sign requests per message`);
    }
    const kms = m.custody === 'aws-kms' && m.ok;
    const output = m.ok ? (m.check ?? '') : `n/a (${m.error ?? 'failed'})`;
    // prettier-ignore
    return [m.key, String(m.concurrency), m.custody, latency(m), m.ok ? rate(m.opsPerSec) : 'n/a',
      m.custody === 'sealed' ? '' : times(m.vsSealed), m.boundPerSec ? int(m.boundPerSec) : '',
      m.ok ? int(m.cpuUsPerOp) : '', kms ? int(m.fakeKmsCpuUsPerMsg) : '',
      kms ? fixed(m.kmsSignPerMsg) : '', other(m), output];
  });
  // prettier-ignore
  out.push(table(['key', '>in flight', 'custody', '>added ms', '>msg/s', '>vs sealed', '>bound',
    '>CPU µs/msg', '>fake KMS µs/msg', '>Sign/msg', '>other', 'output'], rows));
  for (const x of c.skipped) problems.push(`custody: ${x.custody} skipped: ${x.reason}`);
  for (const n of c.notes) out.push(`   ${n}`);
  return out;
}
