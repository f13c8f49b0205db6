/**
 * Smoke test of the benchmark harness in --quick mode: structure and sanity of the result, never
 * timing thresholds (the figures depend on the machine and on what else runs on it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs, renderReport, runBench } from './index';
import type { BenchResult } from './types';

const positive = (n: number | undefined, what: string): void =>
  assert.ok(typeof n === 'number' && Number.isFinite(n) && n > 0, `${what}: ${n}`);

test('parseArgs understands the documented options', () => {
  const o = parseArgs(['--quick', '--duration-ms', '150', '--json', '/tmp/x.json']);
  assert.deepEqual(o, { quick: true, durationMs: 150, json: '/tmp/x.json' });
  assert.deepEqual(parseArgs(['--keys', 'RSA-2048,P-384', '--sections', 'engine,raw']), {
    keys: ['RSA-2048', 'P-384'],
    sections: ['engine', 'raw'],
  });
  assert.throws(() => parseArgs(['--keys', 'RSA-1024']), /unknown key/);
  assert.throws(() => parseArgs(['--duration-ms', '0']), /positive integer/);
  assert.throws(() => parseArgs(['--frobnicate']), /unknown option/);
});

test(
  'bench --quick measures every section and gives sane ratios',
  { timeout: 120_000 },
  async () => {
    const r: BenchResult = await runBench({ quick: true });
    assert.equal(r.settings.durationMs, 150);
    assert.deepEqual(r.settings.keys, ['RSA-2048', 'P-256']);
    assert.ok(r.machine.node.startsWith('v') && r.machine.cpuCount > 0);
    const sections = new Set(r.measurements.map((m) => m.section));
    assert.deepEqual([...sections].sort(), [
      'cache',
      'dkim',
      'encodings',
      'engine',
      'peers',
      'raw',
      'scaling',
    ]);

    for (const m of r.measurements) {
      const label = `${m.subject} ${m.key ?? ''} ${m.bytes} B`;
      if (m.subject === 'nodemailer-smime' && m.key === 'P-256') {
        // node-forge 0.7 cannot sign with EC keys: reported as n/a with the reason, not a crash.
        assert.equal(m.ok, false, label);
        assert.ok(m.error && m.error.length > 0, label);
        continue;
      }
      assert.equal(m.ok, true, `${label}: ${m.error}`);
      positive(m.opsPerSec, `${label} ops/s`);
      positive(m.count, `${label} count`);
      positive(m.elapsedMs, `${label} window`);
      positive(m.mbPerSec, `${label} MB/s`);
      assert.ok(Number.isFinite(m.cpuUsPerOp) && (m.cpuUsPerOp ?? -1) >= 0, `${label} CPU`);
      assert.ok(m.check && !m.check.startsWith('BAD'), `${label}: output check ${m.check}`);
      if (m.subject === 'engine' || m.section === 'cache' || m.section === 'raw') {
        assert.equal(m.check, 'ok', label);
      }
      if (m.section === 'encodings') assert.equal(m.check, 'ok', label);
      if (m.section === 'dkim') {
        assert.equal(m.check, m.subject.startsWith('dkimSign') ? 'signed' : 'same hash', label);
      }
      if ((m.section === 'peers' || m.section === 'cache') && m.key) {
        positive(m.vsEngine, `${label} vs engine`);
      }
    }

    assert.deepEqual(
      r.comparisons.map((c) => c.key),
      ['RSA-2048', 'P-256'],
    );
    for (const c of r.comparisons) {
      positive(c.engineOpsPerSec, `${c.key} engine`);
      positive(c.rawOpsPerSec, `${c.key} raw`);
      positive(c.ratio, `${c.key} engine/raw`);
      assert.equal(typeof c.target?.pass, 'boolean', `${c.key} target`);
    }
    const scaling = r.measurements.filter((m) => m.section === 'scaling');
    assert.equal(scaling.length, 6, '3 sizes besides 20 KB, two keys');

    const text = renderReport(r);
    for (const heading of [
      '1–2. Engine vs raw',
      '3. Body-size',
      '4. Cache hits',
      '5. Peers',
      '6. DKIM',
    ]) {
      assert.ok(text.includes(heading), heading);
    }
    assert.match(text, /engine\/raw ≥ 0\.80: (PASS|MISS)/);
    assert.match(text, /≥ 15,000 msg\/s: (PASS|MISS)/);
    assert.deepEqual(
      JSON.parse(JSON.stringify(r)).comparisons,
      JSON.parse(JSON.stringify(r.comparisons)),
    );
  },
);

test('bench:big signs one message per body kind and reports its encoding and memory', () => {
  const out = execFileSync(
    process.execPath,
    ['-r', '@swc-node/register', join(__dirname, 'big-message.ts'), '1'],
    { encoding: 'utf8' },
  );
  const rows = out.split('\n').filter((l) => /^(ascii|german|japanese) +\d/.test(l));
  assert.deepEqual(
    rows.map((r) => r.split(/\s+/)[3]),
    ['7bit', 'quoted-printable', 'base64'],
    out,
  );
  for (const r of rows) {
    const [, inMb, outMb, , wallMs, , rss] = r.split(/\s+/).map(Number);
    assert.ok(inMb > 0.9 && outMb >= inMb && wallMs >= 0 && rss > 0, r);
  }
});
