/** Renders a RelayBenchResult as the plain-text tables `npm run bench -- relay` prints. */
import { rate, table } from './report';
import type { CpuShares, FlowResult, ProfileSummary, RelayBenchResult } from './relay-types';

/** Cores used by other processes above which a flow's figures are flagged. */
const BUSY = 0.25;

const int = (n: number | undefined): string =>
  n === undefined || !Number.isFinite(n) ? 'n/a' : Math.round(n).toLocaleString('en-US');
const ms = (n: number | undefined): string =>
  n === undefined || !Number.isFinite(n) ? 'n/a' : n >= 100 ? int(n) : n.toFixed(1);
const cores = (n: number | undefined): string =>
  n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(2);
const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;

function header(r: RelayBenchResult): string[] {
  const { machine: mc, settings: s } = r;
  const bodies = s.distinctBodies
    ? 'each body differs (personal link tokens): every message is signed afresh'
    : 'bodies identical, only the outer header differs: the relay signs once and reuses the ' +
      'signature (its SignatureCache); --distinct-bodies signs each message';
  const facts: [string, string][] = [
    ['date', mc.date],
    ['node', `${mc.node} (OpenSSL ${mc.opensslLibrary}), ${mc.platform}`],
    [
      'cpu',
      `${mc.cpuCount} × ${mc.cpuModel}, os.availableParallelism() ${mc.availableParallelism}`,
    ],
    ['load', `load average at start ${mc.loadAverage.join(' ')}`],
    [
      'relay',
      `child process \`smime-relay serve\`, defaults: WORKER_CONCURRENCY ${s.workerConcurrency}, ` +
        `${s.upstreamConnections} upstream connections; PostgreSQL and Redis on this machine`,
    ],
    [
      'messages',
      `${s.messages.toLocaleString('en-US')} per flow after ${s.warmupMessages} warm-up ` +
        `(not counted); ${s.messageBytes.toLocaleString('en-US')} B newsletter + X-Bench-Seq` +
        (s.quick ? ' (quick)' : ''),
    ],
    ['', bodies],
    [
      'clients',
      `${s.connections} SMTP connections (nodemailer pools of one, one session each), each ` +
        'sending its next message on its previous 250; the sink runs in the bench process',
    ],
    ['method', 'msg/s = delivered ÷ (first 250 at a client → last first arrival at the sink)'],
    ['', 'latency = 250 at the client → end of DATA at the sink; all in the bench clock'],
    ['', 'cores = CPU ÷ wall time of the flow; other = the rest of the machine (! > 0.25)'],
  ];
  return ['smime-relay relay benchmark', ...facts.map(([k, v]) => `${k.padEnd(12)}${v}`)];
}

function flowRows(flows: FlowResult[]): string[][] {
  return flows.map((f) => [
    f.flow,
    int(f.accepted),
    int(f.delivered),
    int(f.missing),
    int(f.duplicates),
    rate(f.perSec),
    rate(f.intakePerSec),
    ms(f.latencyMs?.p50),
    ms(f.latencyMs?.p99),
    ms(f.latencyMs?.max),
    int(f.cpu.relayUsPerMessage),
    f.check,
  ]);
}

function cpuRow(f: FlowResult, cpuCount: number): string[] {
  const c: CpuShares = f.cpu;
  const other = c.other === undefined ? 'n/a' : `${cores(c.other)}${c.other > BUSY ? '!' : ''}`;
  const known = c.bench + c.relay + (c.postgres ?? 0) + (c.redis ?? 0);
  // CPU of the four known parties per delivered message, and the rate that would fill the cores.
  const msPerMessage = f.delivered > 0 ? (known * f.elapsedMs) / f.delivered : NaN;
  return [
    f.flow,
    cores(c.bench),
    cores(c.relay),
    cores(c.postgres),
    cores(c.redis),
    other,
    cores(known + (c.other ?? 0)),
    Number.isFinite(msPerMessage) ? msPerMessage.toFixed(1) : 'n/a',
    int((cpuCount * 1000) / msPerMessage),
  ];
}

function profileLines(p: ProfileSummary): string[] {
  const rows = (entries: ProfileSummary['areas']): string[][] =>
    entries.map((e) => [e.name, percent(e.share), int(e.ms)]);
  return [
    '',
    `   ${p.flow}: ${int(p.busyMs)} ms busy, ${int(p.idleMs)} ms idle on the relay's main ` +
      `thread (${p.file})`,
    table(['area', '>self', '>ms'], rows(p.areas)),
    '',
    table(['function', '>self', '>ms'], rows(p.functions)),
  ];
}

function problemsOf(r: RelayBenchResult, cpuCount: number): string[] {
  const problems: string[] = [];
  if (r.error) problems.push(`the run stopped early: ${r.error}`);
  for (const f of [...r.flows, ...r.warmups]) {
    const name = `${f.flow}${f.warmup ? ' warm-up' : ''}`;
    if (f.rejected > 0) {
      problems.push(`${name}: ${f.rejected} submissions not accepted: ${f.rejections.join('; ')}`);
    }
    if (f.missing > 0) problems.push(`${name}: ${f.missing} accepted messages never arrived`);
    if (f.duplicates > 0) problems.push(`${name}: ${f.duplicates} duplicate deliveries`);
    if (f.unexpected > 0) {
      problems.push(`${name}: ${f.unexpected} arrivals of messages that were not accepted`);
    }
    if (f.check !== 'ok' && f.check !== 'unsigned') problems.push(`${name}: output ${f.check}`);
    const expected = f.flow === 'signed' ? 'delivered' : 'sent_unsigned';
    const others = Object.entries(f.relayStates).filter(([state]) => state !== expected);
    if (others.length > 0) {
      const states = others.map(([state, n]) => `${state} ${n}`).join(', ');
      problems.push(
        `${name}: the relay's database has messages that are not ${expected}: ${states}`,
      );
    }
    const expectSigned = f.flow === 'signed' ? f.delivered + f.duplicates : 0;
    if (f.signedArrivals !== expectSigned) {
      problems.push(`${name}: ${f.signedArrivals} signed arrivals, expected ${expectSigned}`);
    }
    if ((f.cpu.other ?? 0) > BUSY && !f.warmup) {
      problems.push(
        `${name}: other processes kept ${cores(f.cpu.other)} of ${cpuCount} cores busy; ` +
          'the figures are depressed',
      );
    }
  }
  if (r.relayOutput.length > 0) {
    problems.push('the relay wrote (LOG_LEVEL=warn), last lines:');
    problems.push(...r.relayOutput.map((line) => `    ${line}`));
  }
  return problems;
}

export function renderRelayReport(r: RelayBenchResult): string {
  const s = r.settings;
  const out = header(r);
  out.push(
    '',
    `6. Relay end to end — SMTP in (${s.connections} connections) → relay child → loopback ` +
      `sink; signed with ${s.key}`,
  );
  // prettier-ignore
  out.push(table(['flow', '>accepted', '>delivered', '>missing', '>dup', '>msg/s', '>intake/s',
    '>p50 ms', '>p99 ms', '>max ms', '>relay CPU µs/msg', 'output'], flowRows(r.flows)));
  if (r.warmups.length > 0) {
    const w = r.warmups.map((f) => `${f.flow} ${f.delivered}/${f.accepted} delivered`);
    out.push(`   warm-ups (not counted): ${w.join(', ')}`);
  }
  const states = r.flows.map((f) => {
    const counts = Object.entries(f.relayStates).map(([k, n]) => `${k} ${int(n)}`);
    return `${f.flow}: ${counts.join(', ') || 'none'}`;
  });
  if (states.length > 0) out.push(`   the relay's database says: ${states.join('; ')}`);

  if (r.flows.length > 0) {
    out.push(
      '',
      `   Cores busy while each flow ran (${r.machine.cpuCount} on this machine); CPU ms/msg = ` +
        'bench + relay + postgres + redis per delivered message;',
      `   CPU-bound ceiling = ${r.machine.cpuCount} cores ÷ that: the rate if nothing else ran`,
    );
    const rows = r.flows.map((f) => cpuRow(f, r.machine.cpuCount));
    // prettier-ignore
    out.push(table(['flow', '>bench', '>relay', '>postgres (its backends)', '>redis-server',
      '>other', '>total', '>CPU ms/msg', '>ceiling msg/s'], rows));
  }

  out.push('', 'Targets (reported, not enforced)');
  if (r.ratio !== undefined) {
    out.push(`   signed/unsigned throughput ratio: ${r.ratio.toFixed(2)}`);
  }
  const targetRows = r.targets.map((t) => [t.description, t.value, t.pass ? 'PASS' : 'MISS']);
  out.push(table(['target', 'measured', 'result'], targetRows));

  if (r.profiles.length > 0) {
    out.push('', "Where the relay's CPU went (V8 profile of each flow, self time, idle excluded)");
    for (const p of r.profiles) out.push(...profileLines(p));
  }
  const problems = problemsOf(r, r.machine.cpuCount);
  if (problems.length > 0) out.push('', 'Problems:', ...problems.map((p) => `  - ${p}`));
  out.push('', `Total wall time: ${(r.totalMs / 1000).toFixed(1)} s`);
  return out.join('\n') + '\n';
}
