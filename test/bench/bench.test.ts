/**
 * Smoke test of the benchmark harness in --quick mode: structure and sanity of the result, never
 * timing thresholds (the figures depend on the machine and on what else runs on it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs, renderReport, runBench } from './index';
import { delayedSigner, distinctBodies } from './custody-bench';
import type { BenchResult, CustodyName, CustodyResult, CustodyRow } from './types';
import { softHsmAvailable } from '../helpers/softhsm';
import { newsletter20k } from '../fixtures/newsletters';

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

test('parseArgs: the custody section and its options', () => {
  const o = parseArgs([
    '--sections',
    'custody',
    '--custody-latencies',
    '0,5',
    '--custody-concurrency',
    '4,8',
    '--pkcs11-sessions',
    '2',
  ]);
  assert.deepEqual(o, {
    sections: ['custody'],
    custody: { latenciesMs: [0, 5], concurrency: [4, 8], pkcs11Sessions: 2 },
  });
  assert.throws(() => parseArgs(['--custody-latencies', '0,5']), /only for the custody section/);
  assert.throws(() => parseArgs(['--sections', 'custody', '--custody-concurrency', '0']));
});

test('custody helpers: distinct bodies; a delay that holds one of the slots', async () => {
  const next = distinctBodies(newsletter20k());
  const [a, b] = [next(), next()];
  assert.equal(a.length, b.length);
  assert.ok(!a.equals(b));
  let inside = 0;
  let most = 0;
  const inner = {
    sign: async () => {
      most = Math.max(most, ++inside);
      await new Promise((r) => setTimeout(r, 1));
      inside--;
      return Buffer.from('sig');
    },
  };
  const slow = delayedSigner(inner, 10, 2);
  const started = Date.now();
  await Promise.all(Array.from({ length: 6 }, () => slow.sign('sha256', 'ecdsa', Buffer.alloc(1))));
  assert.ok(Date.now() - started >= 30, 'six signatures, two at a time, 10 ms each');
  assert.ok(most <= 2, `at most two at once, saw ${most}`);
  assert.equal(delayedSigner(inner, 0, 2), inner, 'no latency: the signer itself');
});

test(
  'bench custody section: every custody signs and verifies, one KMS Sign per message',
  { timeout: 180_000 },
  async () => {
    const r = await runBench({
      quick: true,
      sections: ['custody'],
      custody: { latenciesMs: [0, 5], concurrency: [4] },
    });
    assert.deepEqual(r.measurements, [], 'only the custody section ran');
    const c: CustodyResult | undefined = r.custody;
    if (!c) return assert.fail('no custody result');
    const hsm = softHsmAvailable();
    const remote = (name: CustodyName): CustodyName[] => [name, name];
    const expected: CustodyName[] = [
      'sealed',
      ...(hsm ? remote('pkcs11') : []),
      ...remote('aws-kms'),
    ];
    for (const key of ['RSA-2048', 'P-256']) {
      const rows: CustodyRow[] = c.rows.filter((m) => m.key === key);
      assert.deepEqual(
        rows.map((m) => m.custody),
        expected,
        key,
      );
      for (const m of rows) {
        const label = `${key} ${m.custody} +${m.latencyMs} ms`;
        assert.equal(m.ok, true, `${label}: ${m.error}`);
        assert.equal(m.check, 'ok', label);
        positive(m.opsPerSec, `${label} msg/s`);
        assert.ok(Number.isFinite(m.cpuUsPerOp) && (m.cpuUsPerOp ?? -1) >= 0, `${label} CPU`);
        if (m.custody !== 'sealed') positive(m.vsSealed, `${label} vs sealed`);
        if (m.latencyMs > 0) {
          const limit: number =
            m.custody === 'pkcs11' ? c.settings.pkcs11Sessions : c.settings.kmsSockets;
          assert.equal(m.boundPerSec, (Math.min(4, limit) * 1000) / 5, label);
        }
        if (m.custody === 'aws-kms') {
          assert.equal(m.kmsSignPerMsg, 1, `${label}: one Sign request per message`);
          assert.equal(m.kmsOtherRequests, 0, `${label}: no GetPublicKey per message`);
          positive(m.fakeKmsCpuUsPerMsg, `${label} fake KMS CPU`);
        }
      }
    }
    const text = renderReport(r);
    assert.ok(text.includes('8. Key custody'), text);
    assert.ok(text.includes('SIMULATED'), 'the note says the PKCS#11 latency is simulated');
    assert.match(text, /2 GetPublicKey \(one per key/);
    if (!hsm) {
      assert.match(c.skipped[0]?.reason ?? '', /SoftHSM2 is not installed/);
      assert.ok(text.includes('SKIPPED pkcs11'), text);
    } else {
      assert.deepEqual(c.skipped, []);
    }
  },
);

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
