/**
 * The fake AWS KMS (test/helpers/fake-kms.ts) in a process of its own, for the custody
 * section of the benchmark: its HTTP parsing, SigV4 checks and signatures (ECDSA in BigInt
 * arithmetic) then do not count as the relay's CPU. Started by custody-bench.ts with an IPC
 * channel; each request is `{ id, op, ... }` and is answered `{ id, value }` or `{ id, error }`:
 *
 *   { op: 'start', credentials }          → { endpoint }
 *   { op: 'createKey', spec }             → { keyId, arn }   (made in the fake, no request)
 *   { op: 'latency', ms }                 → {}               (FakeKms.latencyMs from now on)
 *   { op: 'stats' }                       → { cpuUs, counts } (CPU of this process so far and
 *                                           the requests received so far, by target)
 *   { op: 'stop' }                        → {}               (then the process exits)
 */
import {
  FakeKms,
  type FakeKmsCredentials,
  type FakeKmsKeySpec,
  startFakeKms,
} from '../helpers/fake-kms';

export type KmsChildRequest =
  | { op: 'start'; credentials: FakeKmsCredentials }
  | { op: 'createKey'; spec: FakeKmsKeySpec }
  | { op: 'latency'; ms: number }
  | { op: 'stats' }
  | { op: 'stop' };

export interface KmsChildStats {
  /** User + system CPU of the child since it started, µs. */
  cpuUs: number;
  /** Requests received since the child started, by target (Sign, GetPublicKey, …). */
  counts: Record<string, number>;
}

let fake: FakeKms | undefined;
/** Requests tallied so far; FakeKms.requests is emptied after each tally to bound memory. */
const totals: Record<string, number> = {};

function tally(): Record<string, number> {
  if (fake) {
    for (const r of fake.requests.splice(0)) totals[r.target] = (totals[r.target] ?? 0) + 1;
  }
  return { ...totals };
}

function started(): FakeKms {
  if (!fake) throw new Error('the fake KMS is not started');
  return fake;
}

async function handle(m: KmsChildRequest): Promise<unknown> {
  switch (m.op) {
    case 'start':
      fake ??= await startFakeKms(m.credentials);
      return { endpoint: fake.endpoint };
    case 'createKey':
      return started().createKey(m.spec);
    case 'latency':
      started().latencyMs = m.ms;
      return {};
    case 'stats': {
      const cpu = process.cpuUsage();
      const stats: KmsChildStats = { cpuUs: cpu.user + cpu.system, counts: tally() };
      return stats;
    }
    case 'stop':
      await fake?.stop();
      fake = undefined;
      setImmediate(() => process.exit(0));
      return {};
  }
}

if (process.send) {
  process.on('message', (m: KmsChildRequest & { id: number }) => {
    handle(m).then(
      (value) => process.send?.({ id: m.id, value }),
      (e: unknown) =>
        process.send?.({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  // Never outlive the bench.
  process.on('disconnect', () => process.exit(0));
}
