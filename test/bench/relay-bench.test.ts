/**
 * The relay benchmark's parts that need no relay: argument parsing, the figures derived from
 * what a flow recorded, the report, the CPU and profile arithmetic. The benchmark itself
 * (`npm run bench -- relay`) is not run here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newsletterOfSize } from '../fixtures/newsletters';
import { parseArgs } from './index';
import { cpuShares, redisCpuUs } from './relay-cpu';
import { benchMessage, flowSummary, quantile } from './relay-flow';
import { summarizeProfile } from './relay-profile';
import { renderRelayReport } from './relay-report';
import { headerOf, seqOf } from './relay-sink';
import type { CpuShares, FlowRecord, FlowResult, RelayBenchResult } from './relay-types';

test('parseArgs: a bare `relay` or --sections relay selects the relay section only', () => {
  assert.deepEqual(parseArgs(['relay']), { sections: [], relay: {} });
  assert.deepEqual(parseArgs(['--sections', 'relay']), { sections: [], relay: {} });
  assert.deepEqual(parseArgs(['relay', '--quick', '--connections', '4', '--json', 'r.json']), {
    sections: [],
    relay: { connections: 4 },
    quick: true,
    json: 'r.json',
  });
  assert.deepEqual(parseArgs(['--sections', 'engine,relay']), {
    sections: ['engine'],
    relay: {},
  });
  assert.deepEqual(
    parseArgs(['relay', '--messages', '1000', '--warmup-messages', '0', '--distinct-bodies']),
    { sections: [], relay: { messages: 1000, warmupMessages: 0, distinctBodies: true } },
  );
  assert.deepEqual(parseArgs(['--sections', 'engine,raw']), { sections: ['engine', 'raw'] });
});

test('parseArgs refuses relay options without the relay section, and bad values', () => {
  assert.throws(() => parseArgs(['--connections', '4']), /only for the relay section/);
  assert.throws(() => parseArgs(['relay', '--connections', '0']), /positive integer/);
  assert.throws(() => parseArgs(['relay', '--messages', 'many']), /positive integer/);
  assert.throws(() => parseArgs(['--sections', 'relay,bogus']), /unknown section "bogus"/);
  assert.throws(() => parseArgs(['relay', '--connections']), /needs a value/);
});

test('bench messages carry their X-Bench-Seq, and distinct bodies differ only in link tokens', () => {
  const base = newsletterOfSize(20 * 1024).toString('latin1');
  const same = [benchMessage(base, 'signed', 7, false), benchMessage(base, 'signed', 8, false)];
  assert.deepEqual(seqOf(headerOf(same[0])), { tag: 'signed', n: 7 });
  assert.deepEqual(seqOf(headerOf(same[1])), { tag: 'signed', n: 8 });
  const bodyOf = (raw: Buffer): string => raw.subarray(raw.indexOf('\r\n\r\n')).toString();
  assert.equal(bodyOf(same[0]), bodyOf(same[1]));
  const distinct = [benchMessage(base, 'u-warmup', 7, true), benchMessage(base, 'u', 8, true)];
  assert.deepEqual(seqOf(headerOf(distinct[0])), { tag: 'u-warmup', n: 7 });
  assert.notEqual(bodyOf(distinct[0]), bodyOf(distinct[1]));
  const personal = benchMessage(base, 'signed', 7, true);
  assert.equal(personal.length, same[0].length, 'the tokens keep the length');
  assert.equal(seqOf('Subject: no sequence here\r\n'), undefined);
});

test('quantile is the nearest rank', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(quantile(values, 0.5), 50);
  assert.equal(quantile(values, 0.99), 99);
  assert.equal(quantile([5], 0.99), 5);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

const cpu: CpuShares = {
  bench: 0.2,
  relay: 0.9,
  postgres: 0.4,
  redis: 0.1,
  other: 0.3,
  relayUsPerMessage: 1200,
};

test('flowSummary counts delivered, missing, duplicate and unexpected arrivals', () => {
  const record: FlowRecord = {
    flow: 'signed',
    warmup: false,
    tag: 'signed',
    sent: 5,
    acceptedAt: new Map([
      [0, 1000],
      [1, 1010],
      [2, 1020],
    ]),
    messageIds: new Map(),
    rejections: new Map([['451 try later', 2]]),
    startedAt: 990,
    endedAt: 3000,
    cpu,
  };
  const arrivals = {
    times: new Map([
      [0, [1100, 1400]], // delivered, then again
      [1, [1210]],
      [4, [1300]], // never accepted
    ]),
    signed: 4,
  };
  const f = flowSummary(record, arrivals, { relayStates: { delivered: 3 }, check: 'ok' });
  assert.equal(f.accepted, 3);
  assert.equal(f.rejected, 2);
  assert.deepEqual(f.rejections, ['2 × 451 try later']);
  assert.equal(f.delivered, 2);
  assert.equal(f.missing, 1);
  assert.equal(f.duplicates, 1);
  assert.equal(f.unexpected, 1);
  assert.deepEqual(f.latencyMs, { p50: 100, p99: 200, max: 200 });
  assert.equal(f.perSec, (2 * 1000) / (1210 - 1000));
  assert.equal(f.intakePerSec, (3 * 1000) / 20);
  assert.equal(f.elapsedMs, 2010);
});

function flow(name: 'signed' | 'unsigned', perSec: number, extra: Partial<FlowResult> = {}) {
  return {
    flow: name,
    warmup: false,
    sent: 5000,
    accepted: 5000,
    rejected: 0,
    rejections: [],
    delivered: 5000,
    duplicates: 0,
    missing: 0,
    unexpected: 0,
    signedArrivals: name === 'signed' ? 5000 : 0,
    intakePerSec: perSec * 1.1,
    perSec,
    latencyMs: { p50: 41.5, p99: 230, max: 1250 },
    elapsedMs: 9000,
    cpu,
    relayStates: { [name === 'signed' ? 'delivered' : 'sent_unsigned']: 5000 },
    check: name === 'signed' ? 'ok' : 'unsigned',
    ...extra,
  } satisfies FlowResult;
}

function sampleResult(): RelayBenchResult {
  return {
    kind: 'relay',
    machine: {
      node: 'v20.19.0',
      platform: 'linux 6 x64',
      cpuModel: 'Test CPU',
      cpuCount: 2,
      availableParallelism: 2,
      uvThreadpoolSize: '4 (default, unset)',
      loadAverage: [1, 1, 1],
      opensslLibrary: '3.0.0',
      opensslCli: 'OpenSSL 3.0.0',
      date: '2025-01-01T00:00:00.000Z',
    },
    settings: {
      connections: 8,
      messages: 5000,
      warmupMessages: 200,
      distinctBodies: false,
      quick: false,
      messageBytes: 20051,
      key: 'RSA-2048',
      workerConcurrency: 32,
      upstreamConnections: 5,
    },
    flows: [
      flow('unsigned', 1000),
      flow('signed', 640, { delivered: 4997, missing: 3, duplicates: 2, signedArrivals: 4990 }),
    ],
    warmups: [flow('unsigned', 900, { warmup: true, sent: 200, accepted: 200, delivered: 200 })],
    ratio: 0.64,
    targets: [
      { description: 'signed ≥ 800 msg/s', value: '640 msg/s', pass: false },
      { description: 'signed/unsigned ≥ 0.75', value: '0.64', pass: false },
      { description: 'each accepted message delivered once', value: '3 missing', pass: false },
    ],
    relayOutput: ['WARN [SignAndDeliver] message 1 failed'],
    profiles: [
      {
        flow: 'signed',
        file: '/tmp/relay-signed.cpuprofile',
        busyMs: 8000,
        idleMs: 1000,
        functions: [{ name: 'writev (from pg)', share: 0.25, ms: 2000 }],
        areas: [{ name: 'pg', share: 0.4, ms: 3200 }],
      },
    ],
    totalMs: 61_000,
  };
}

test('the relay report shows both flows, the targets and every problem', () => {
  const text = renderRelayReport(sampleResult());
  assert.match(text, /^smime-relay relay benchmark/);
  assert.match(text, /6\. Relay end to end — SMTP in \(8 connections\)/);
  assert.match(text, /^unsigned +5,000 +5,000 +0 +0 +1,000 +1,100 +41\.5 +230 +1,250 /m);
  assert.match(text, /^signed +5,000 +4,997 +3 +2 +640 /m);
  assert.match(text, /signed ≥ 800 msg\/s +640 msg\/s +MISS/);
  assert.match(text, /signed\/unsigned throughput ratio: 0\.64/);
  assert.match(text, /warm-ups \(not counted\): unsigned 200\/200 delivered/);
  assert.match(text, /sent_unsigned 5,000/);
  assert.match(text, /signed: 3 accepted messages never arrived/);
  assert.match(text, /signed: 2 duplicate deliveries/);
  assert.match(text, /signed: 4990 signed arrivals, expected 4999/);
  assert.match(text, /other processes kept 0\.30 of 2 cores busy/);
  assert.match(text, /WARN \[SignAndDeliver\] message 1 failed/);
  assert.match(text, /^pg +40\.0% +3,200$/m);
  // (0.2 + 0.9 + 0.4 + 0.1) cores × 9 s ÷ 5,000 messages = 2.9 ms; 2 cores ÷ 2.88 ms = 694/s
  assert.match(text, /^unsigned +0\.20 +0\.90 +0\.40 +0\.10 +0\.30! +1\.90 +2\.9 +694$/m);
  assert.match(text, /Total wall time: 61\.0 s/);
});

test('cpuShares splits the machine between bench, relay, PostgreSQL, Redis and the rest', () => {
  const a = { at: 0, bench: 0, relay: 0, postgres: new Map([[1, 0]]), redis: 0, machine: 0 };
  const b = {
    at: 1000, // ms: one second
    bench: 200_000,
    relay: 600_000,
    postgres: new Map([
      [1, 300_000],
      [2, 100_000], // a backend that started meanwhile
    ]),
    redis: 50_000,
    machine: 1_500_000,
  };
  const c = cpuShares(a, b, 300);
  assert.equal(c.bench, 0.2);
  assert.equal(c.relay, 0.6);
  assert.equal(c.postgres, 0.4);
  assert.equal(c.redis, 0.05);
  assert.ok(Math.abs((c.other ?? NaN) - 0.25) < 1e-9);
  assert.equal(c.relayUsPerMessage, 2000);
  assert.equal(redisCpuUs('# CPU\r\nused_cpu_sys:1.5\r\nused_cpu_user:2.25\r\n'), 3_750_000);
});

test('summarizeProfile counts native calls for the package that made them, idle apart', () => {
  const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 5] },
      {
        id: 2,
        callFrame: frame('query', 'file:///x/node_modules/pg/lib/client.js'),
        children: [3],
      },
      { id: 3, callFrame: frame('Socket.write', 'node:net'), children: [4] },
      { id: 4, callFrame: frame('writev') },
      { id: 5, callFrame: frame('(idle)') },
    ],
    samples: [4, 4, 4, 2, 5, 5],
    timeDeltas: [1000, 1000, 1000, 1000, 5000, 5000],
  };
  const s = summarizeProfile(profile, 'signed', 'p.cpuprofile');
  assert.equal(s.busyMs, 4);
  assert.equal(s.idleMs, 10);
  assert.deepEqual(s.areas, [{ name: 'pg', share: 1, ms: 4 }]);
  assert.equal(s.functions[0].name, 'writev (from pg)');
  assert.equal(s.functions[0].share, 0.75);
});
