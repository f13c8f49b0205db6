/**
 * `node -r @swc-node/register test/bench/big-message.ts [MB]`: signs one large newsletter
 * per child process and reports wall time, CPU and peak memory (max RSS): a mostly-ASCII
 * German and an 8-bit Japanese UTF-8 body (re-encoded for transit) against an ASCII body of
 * the same size (the baseline, kept as it is), measured in the same run. Each is labelled
 * `Content-Transfer-Encoding: 8bit`, as platforms label them.
 */
import { execFileSync } from 'node:child_process';
import { P12_PASSWORD, createTestPki } from '../helpers/pki';

const MB = Number(process.argv[2] ?? 25);

type Kind = 'ascii' | 'german' | 'japanese';

function body(kind: Kind, bytes: number): string {
  const line = {
    japanese:
      '今週のニュースレターです。春のセールは三月末まで、全品二割引きでご案内しております。\r\n',
    german:
      'Diese Woche im Newsletter: der Frühjahrsverkauf läuft bis Ende März, 20 % günstiger.\r\n',
    ascii: 'This week in our newsletter: the spring sale runs until the end of March, 20% off.\r\n',
  }[kind];
  const unit = Buffer.byteLength(line, 'utf8');
  return line.repeat(Math.ceil(bytes / unit));
}

async function child(kind: Kind, p12: string, password: string): Promise<void> {
  const raw = Buffer.from(
    'From: news@example.com\r\nTo: reader@example.net\r\nSubject: big\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
      body(kind, MB * 1024 * 1024),
    'utf8',
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadSigningIdentity, signMessage } = require('../../src') as typeof import('../../src');
  const { readFileSync } = await import('node:fs');
  const identity = loadSigningIdentity({ pkcs12: readFileSync(p12), password });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const signed = await signMessage(raw, identity);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const cte = /Content-Transfer-Encoding: ([\w-]+)\r\n\r\n/.exec(
    signed.toString('latin1', 0, 4096),
  );
  console.log(
    JSON.stringify({
      kind,
      inMB: +(raw.length / 1048576).toFixed(1),
      outMB: +(signed.length / 1048576).toFixed(1),
      encoding: cte?.[1] ?? '?',
      ms: Math.round(ms),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}

async function main(): Promise<void> {
  if (process.argv[3] === '--child') {
    await child(process.argv[4] as Kind, process.argv[5], process.argv[6]);
    return;
  }
  const pki = await createTestPki();
  const id = pki.identities.p256;
  const rows = (['ascii', 'german', 'japanese'] as const).map((kind) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          '-r',
          '@swc-node/register',
          __filename,
          String(MB),
          '--child',
          kind,
          id.p12Path ?? '',
          P12_PASSWORD,
        ],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      ),
    ),
  );
  console.log(`one ${MB} MB newsletter signed per child process (P-256, detached)`);
  console.log('body      in MB  out MB  encoding            wall ms  CPU ms  max RSS MB');
  for (const r of rows) {
    console.log(
      `${r.kind.padEnd(8)}  ${String(r.inMB).padStart(5)}  ${String(r.outMB).padStart(6)}  ${r.encoding.padEnd(18)}  ${String(r.ms).padStart(7)}  ${String(r.cpuMs).padStart(6)}  ${String(r.maxRssMB).padStart(10)}`,
    );
  }
  const [a, ...others] = rows;
  for (const r of others) {
    console.log(
      `${r.kind} ÷ ascii: wall ${(r.ms / a.ms).toFixed(2)}×, max RSS ${(r.maxRssMB / a.maxRssMB).toFixed(2)}×, output ${(r.outMB / a.outMB).toFixed(2)}×`,
    );
  }
}

void main();
