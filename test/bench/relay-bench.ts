/**
 * runRelayBench(): the end-to-end relay benchmark. A relay child process, a loopback sink,
 * two tenants — one that signs (RSA-2048) and one with policy `prefer` and no certificate
 * (messages go out `sent_unsigned`), each with a webhook for its per-message event — and for
 * each a warm-up and a measured flow of 20 KB newsletters submitted over SMTP. Figures are taken in the bench process's clock.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { verifyMessage } from '../../src/smime';
import { newsletterOfSize } from '../fixtures/newsletters';
import { createTestPki, P12_PASSWORD, type TestPki } from '../helpers/pki';
import { machineFacts } from './measure';
import { flowSummary, runFlow } from './relay-flow';
import { startRelay, type RelayProcess } from './relay-process';
import { summarizeProfile, type CpuProfile } from './relay-profile';
import { headerOf, startBenchSink, type BenchSink } from './relay-sink';
import type {
  FlowName,
  FlowRecord,
  RelayBenchResult,
  RelayOptions,
  RelaySettings,
  RelayTarget,
} from './relay-types';

const TARGET_RATE = 800;
const TARGET_RATIO = 0.75;
/** The relay's defaults (src/config/environment.ts, plugins/smtp/smtp.transport.ts). */
const WORKER_CONCURRENCY = 32;
const UPSTREAM_CONNECTIONS = 5;

export function resolveRelaySettings(o: RelayOptions): RelaySettings {
  const quick = o.quick ?? false;
  return {
    connections: o.connections ?? 8,
    messages: o.messages ?? (quick ? 300 : 5000),
    warmupMessages: o.warmupMessages ?? (quick ? 50 : 200),
    distinctBodies: o.distinctBodies ?? false,
    quick,
    messageBytes: newsletterOfSize(20 * 1024).length,
    key: 'RSA-2048',
    workerConcurrency: WORKER_CONCURRENCY,
    upstreamConnections: UPSTREAM_CONNECTIONS,
    profileDir: o.profileDir,
  };
}

interface Credentials {
  username: string;
  password: string;
}

/**
 * A webhook receiver answering 204. Each tenant subscribes it to its per-message event
 * (message.delivered, message.sent_unsigned), so both flows write and dispatch one event per
 * message and compare like with like.
 */
async function startReceiver(): Promise<{
  url: string;
  calls: () => number;
  stop(): Promise<void>;
}> {
  let calls = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    calls: () => calls,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}

async function createTenant(
  relay: RelayProcess,
  sinkPort: number,
  flow: FlowName,
  pki: TestPki,
  webhookUrl: string,
): Promise<Credentials & { id: string }> {
  const expect = (r: { status: number; text: string }, status: number, what: string): void => {
    if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} ${r.text}`);
  };
  const signingPolicy = flow === 'signed' ? 'require' : 'prefer';
  const t = await relay.api('POST', '/v1/tenants', { name: `bench ${flow}`, signingPolicy });
  expect(t, 201, 'creating a tenant');
  const id = t.json.id as string;
  if (flow === 'signed') {
    const pkcs12 = pki.identities.rsa2048.p12!.toString('base64');
    const c = await relay.api('POST', `/v1/tenants/${id}/certificates`, {
      pkcs12,
      password: P12_PASSWORD,
    });
    expect(c, 201, 'uploading the certificate');
  }
  const d = await relay.api('PUT', `/v1/tenants/${id}/delivery`, {
    transport: 'smtp',
    host: '127.0.0.1',
    port: sinkPort,
    secure: false,
  });
  expect(d, 200, 'setting the upstream');
  const s = await relay.api('POST', `/v1/tenants/${id}/smtp-credentials`, {});
  expect(s, 201, 'creating SMTP credentials');
  const events = [flow === 'signed' ? 'message.delivered' : 'message.sent_unsigned'];
  const w = await relay.api('POST', `/v1/tenants/${id}/webhooks`, { url: webhookUrl, events });
  expect(w, 201, 'subscribing the webhook receiver');
  return { id, username: s.json.username, password: s.json.password };
}

async function relayStates(relay: RelayProcess, r: FlowRecord): Promise<Record<string, number>> {
  const { rows } = await relay.db.query<{ state: string; n: number }>(
    'SELECT state, count(*)::int AS n FROM messages WHERE id = ANY($1::uuid[]) GROUP BY state',
    [[...r.messageIds.values()]],
  );
  return Object.fromEntries(rows.map((row) => [row.state, row.n]));
}

async function checkSample(sink: BenchSink, r: FlowRecord, pki: TestPki): Promise<string> {
  const raw = sink.sample(r.tag);
  if (!raw) return 'nothing arrived';
  const signed = /^Content-Type:[ \t]*multipart\/signed/im.test(headerOf(raw));
  if (r.flow === 'unsigned') return signed ? 'BAD: signed' : 'unsigned';
  if (!signed) return 'BAD: not signed';
  const report = await verifyMessage(raw, { trustAnchors: [pki.rootPem] });
  return report.valid ? 'ok' : `BAD: ${report.errors[0]?.message ?? 'not valid'}`;
}

function targetsOf(result: RelayBenchResult): RelayTarget[] {
  const signed = result.flows.find((f) => f.flow === 'signed');
  const targets: RelayTarget[] = [];
  if (signed?.perSec !== undefined) {
    targets.push({
      description: `signed ≥ ${TARGET_RATE} msg/s`,
      value: `${Math.round(signed.perSec)} msg/s`,
      pass: signed.perSec >= TARGET_RATE,
    });
  }
  if (result.ratio !== undefined) {
    targets.push({
      description: `signed/unsigned ≥ ${TARGET_RATIO.toFixed(2)}`,
      value: result.ratio.toFixed(2),
      pass: result.ratio >= TARGET_RATIO,
    });
  }
  const all = [...result.warmups, ...result.flows];
  if (all.length > 0) {
    const sum = (k: 'accepted' | 'missing' | 'duplicates' | 'unexpected'): number =>
      all.reduce((n, f) => n + f[k], 0);
    targets.push({
      description: 'each accepted message delivered once',
      value:
        `${sum('missing')} missing, ${sum('duplicates')} dup, ${sum('unexpected')} unexpected ` +
        `of ${sum('accepted').toLocaleString('en-US')} accepted (warm-ups included)`,
      pass: sum('missing') === 0 && sum('duplicates') === 0 && sum('unexpected') === 0,
    });
  }
  return targets;
}

export async function runRelayBench(options: RelayOptions = {}): Promise<RelayBenchResult> {
  const started = performance.now();
  const settings = resolveRelaySettings(options);
  const log = options.log ?? ((): void => undefined);
  const result: RelayBenchResult = {
    kind: 'relay',
    machine: machineFacts(),
    settings,
    flows: [],
    warmups: [],
    targets: [],
    relayOutput: [],
    profiles: [],
    totalMs: 0,
  };
  const pki = await createTestPki();
  const base = newsletterOfSize(20 * 1024).toString('latin1');
  const sink = await startBenchSink();
  const receiver = await startReceiver();
  log('relay: starting the relay process … ');
  const relay = await startRelay({ profile: settings.profileDir !== undefined }).catch(
    async (e: unknown) => {
      await sink.stop();
      await receiver.stop();
      throw e;
    },
  );
  log(`pid ${relay.pid}, SMTP on ${relay.smtpPort}\n`);
  // Ctrl-C: still end the child and drop its database and Redis keys.
  const interrupted = (): void => {
    log('relay: interrupted; stopping the relay\n');
    void relay.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  const records: FlowRecord[] = [];
  try {
    for (const flow of ['unsigned', 'signed'] as const) {
      const tenant = await createTenant(relay, sink.port, flow, pki, receiver.url);
      for (const warmup of [true, false]) {
        if (!relay.alive()) throw new Error('the relay process has exited');
        const count = warmup ? settings.warmupMessages : settings.messages;
        if (count === 0) continue;
        log(`relay: ${flow}${warmup ? ' warm-up' : ''}, ${count} messages\n`);
        const profile = !warmup && settings.profileDir !== undefined;
        if (profile) await relay.startProfile();
        const record = await runFlow({
          flow,
          warmup,
          tag: warmup ? `${flow}-warmup` : flow,
          count,
          connections: settings.connections,
          smtpPort: relay.smtpPort,
          credentials: tenant,
          base,
          distinctBodies: settings.distinctBodies,
          sink,
          cpu: { relayPid: relay.pid, db: relay.db, redis: relay.redis },
          stallMs: settings.quick ? 15_000 : 30_000,
          log,
        });
        records.push(record);
        if (profile) {
          const file = join(settings.profileDir!, `relay-${flow}.cpuprofile`);
          await relay.stopProfile(file);
          const data = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
          result.profiles.push(summarizeProfile(data, flow, file));
        }
        const got = sink.arrivals(record.tag).times.size;
        log(`relay: ${flow}: ${record.acceptedAt.size} accepted, ${got} delivered\n`);
      }
    }
    // Late duplicates (a redelivery after a lost job lock) would arrive now.
    await new Promise((r) => setTimeout(r, 2000));
  } catch (e) {
    result.error = (e as Error).message;
    log(`relay: stopped early: ${result.error}\n`);
  }
  try {
    for (const record of records) {
      const summary = flowSummary(record, sink.arrivals(record.tag), {
        relayStates: await relayStates(relay, record),
        check: await checkSample(sink, record, pki),
      });
      (record.warmup ? result.warmups : result.flows).push(summary);
    }
  } finally {
    process.off('SIGINT', interrupted);
    // eslint-disable-next-line no-control-regex
    const text = relay.output.join('').replace(/\x1b\[[0-9;]*m/g, '');
    result.relayOutput = text.split('\n').filter(Boolean).slice(-20);
    await relay.stop();
    await sink.stop();
    await receiver.stop();
  }
  log(`relay: the webhook receiver took ${receiver.calls()} event calls\n`);
  const rateOf = (flow: FlowName): number | undefined =>
    result.flows.find((f) => f.flow === flow)?.perSec;
  const [signed, unsigned] = [rateOf('signed'), rateOf('unsigned')];
  if (signed !== undefined && unsigned) result.ratio = signed / unsigned;
  result.targets = targetsOf(result);
  result.totalMs = performance.now() - started;
  return result;
}
