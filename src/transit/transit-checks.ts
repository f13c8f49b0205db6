/**
 * Transit checks: prove that what arrives still verifies. A check message goes from the
 * tenant's From, through Intake, the tenant's certificate, DKIM key and real delivery path,
 * to the seed mailbox the tenant named; the copy that arrives is read back over IMAP and
 * compared with the bytes the relay handed to the upstream. The report says whether it was
 * delivered and arrived, whether the S/MIME signature and DKIM still verify (with the
 * reason), what changed in transit, and how long it took. A failed check is recorded as a
 * `transit.check_failed` event for the tenant's webhooks.
 */
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import type { Environment } from '../config/environment';
import { ENVIRONMENT } from '../config/tokens';
import type { Database } from '../database/connection';
import { activeCertificatesOf } from '../certificates/certificates.repository';
import { DATABASE } from '../database/database.module';
import { INTAKE, type Intake } from '../plugin/contract';
import { isRelayError, RelayError } from '../plugin/relay-error';
import { Spool } from '../relay/spool';
import { KEEP_SENT_COPY } from '../relay/sign-and-deliver';
import { verifyMessage } from '../smime';
import { Rounds } from '../common/rounds';
import { recordEvent } from '../events/event-log';
import { DnsLookupHolder } from '../common/dns-lookup';
import { checkMessage } from './check-message';
import { openSeedMailbox, takeCheckCopy, SeedMailboxError } from './seed-mailbox';
import { transitDiff } from './transit-diff';
import {
  TransitCheckRecords,
  type TransitCheckResult,
  type TransitCheckView,
} from './transit-check-records';
import { TransitSettingsStore, type TransitCheckSettings } from './transit-settings';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The `d=` of the DKIM-Signature the relay put on the message it sent, if any. */
function relayDkimDomain(sent: Buffer): string | undefined {
  const head = sent.subarray(0, 4096).toString('latin1');
  if (!/^DKIM-Signature:/i.test(head)) return undefined;
  const field = head.slice(0, head.search(/\r\n(?![ \t])/)).replace(/\r\n[ \t]+/g, ' ');
  return /[;\s]d=([^;\s]+)/.exec(field)?.[1]?.toLowerCase();
}

@Injectable()
export class TransitChecks implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('TransitChecks');
  private readonly inFlight = new Set<Promise<void>>();
  private readonly rounds = new Rounds(() => this.round());
  private stopped = false;

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly records: TransitCheckRecords,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @Inject(INTAKE) private readonly intake: Intake,
    private readonly settings: TransitSettingsStore,
    private readonly spool: Spool,
    private readonly dns: DnsLookupHolder,
    @Inject('TRANSIT_SCHEDULER') private readonly schedules: boolean,
  ) {}

  onApplicationBootstrap(): void {
    if (this.schedules) this.rounds.start(5_000);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.rounds.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  private async round(): Promise<number> {
    await this.scheduledRound();
    return 60_000;
  }

  /** One scheduler round: due checks started, checks cut off by a restart closed. */
  async scheduledRound(): Promise<void> {
    try {
      const limit = (this.env.TRANSIT_CHECK_TIMEOUT_SECONDS + 300) * 1000;
      await this.records.closeInterrupted(new Date(Date.now() - limit));
      for (const tenantId of await this.settings.claimDue()) {
        await this.start(tenantId, 'schedule').catch((e: unknown) =>
          this.log.warn(`scheduled transit check of tenant ${tenantId}: ${(e as Error).message}`),
        );
      }
    } catch (e) {
      this.log.warn(`transit check scheduler: ${(e as Error).message}`);
    }
  }

  /** The From address of checks: the setting, else an address of the newest certificate. */
  private async fromAddress(tenantId: string, s: TransitCheckSettings): Promise<string> {
    if (s.from) return s.from.toLowerCase();
    const now = Date.now();
    const newest = (await activeCertificatesOf(this.db.session, tenantId)).find(
      (c) => new Date(c.notAfter).getTime() > now,
    );
    const address = newest?.emailAddresses[0];
    if (!address) {
      throw new RelayError(
        'no_certificate',
        'the tenant has no valid certificate; upload one, or set "from" in the transit-check settings',
      );
    }
    return address;
  }

  /** Starts a check and returns it (state `running`); the report follows in the background. */
  async start(tenantId: string, trigger: 'api' | 'schedule'): Promise<TransitCheckView> {
    const s = await this.settings.open(tenantId);
    if (!s) {
      throw new RelayError(
        'invalid_request',
        'no seed mailbox yet: set it with PUT /v1/tenants/:tenantId/transit-check',
      );
    }
    const from = await this.fromAddress(tenantId, s);
    const id = randomUUID();
    const check = await this.records.insert({ id, tenantId, from, to: s.to, trigger });
    const run = this.run(tenantId, id, from, s).catch((e: unknown) =>
      this.log.warn(`transit check ${id} could not finish: ${(e as Error).message}`),
    );
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return check;
  }

  private async run(
    tenantId: string,
    id: string,
    from: string,
    s: TransitCheckSettings,
  ): Promise<void> {
    const started = Date.now();
    const result: TransitCheckResult = {
      delivered: false,
      arrived: false,
      timings: { totalMs: 0 },
      problems: [],
    };
    try {
      await this.send(tenantId, id, from, s, result, started);
    } catch (e) {
      const message = isRelayError(e) || e instanceof SeedMailboxError ? e.message : String(e);
      result.problems.push(message);
    }
    result.timings.totalMs = Date.now() - started;
    const state = result.problems.length ? 'failed' : 'passed';
    await this.records.finish(id, state, result);
    if (state === 'failed') {
      await recordEvent(this.db.session, tenantId, 'transit.check_failed', {
        checkId: id,
        from,
        to: s.to,
        problems: result.problems,
      });
    }
  }

  private async send(
    tenantId: string,
    id: string,
    from: string,
    s: TransitCheckSettings,
    result: TransitCheckResult,
    started: number,
  ): Promise<void> {
    let accepted;
    try {
      accepted = await this.intake.accept({
        tenantId,
        envelope: { from, to: [s.to] },
        raw: checkMessage({ checkId: id, from, to: s.to, at: new Date() }),
        source: 'transit-check',
        meta: { transitCheckId: id, [KEEP_SENT_COPY]: '1' },
      });
    } catch (e) {
      if (!isRelayError(e)) throw e;
      result.deliveryError = { code: e.code, message: e.message };
      result.problems.push(`the relay refused the check message: [${e.code}] ${e.message}`);
      return;
    }
    await this.records.setMessage(id, accepted.messageId);
    const deadline = started + this.env.TRANSIT_CHECK_TIMEOUT_SECONDS * 1000;
    const outcome = await this.finalOutcome(accepted.messageId, deadline);
    if (!outcome || outcome.state === 'queued' || outcome.state === 'retrying') {
      result.problems.push(
        `the check message was not delivered within ${this.env.TRANSIT_CHECK_TIMEOUT_SECONDS} s` +
          (outcome?.error ? ` (last error: [${outcome.error.code}] ${outcome.error.message})` : ''),
      );
      return;
    }
    if (outcome.state === 'failed') {
      result.deliveryError = outcome.error ?? undefined;
      result.problems.push(
        `the check message failed: [${outcome.error?.code}] ${outcome.error?.message}`,
      );
      return;
    }
    result.delivered = true;
    if (outcome.finishedAt) {
      result.timings.deliveryMs = outcome.finishedAt.getTime() - outcome.createdAt.getTime();
    }
    if (outcome.state === 'sent_unsigned') {
      result.problems.push(
        'the check message went out unsigned (a recipient-domain rule or policy prefer without a certificate)',
      );
    }
    const received = await this.arrival(s, id, deadline);
    if (!received) {
      result.problems.push(
        `the check message did not arrive in ${s.to} within ${this.env.TRANSIT_CHECK_TIMEOUT_SECONDS} s`,
      );
      return;
    }
    result.arrived = true;
    result.timings.arrivalMs = Date.now() - started;
    await this.analyse(received, outcome.sent, result);
  }

  private async finalOutcome(messageId: string, deadline: number) {
    for (;;) {
      const o = await this.spool.outcome(messageId);
      if (o && o.state !== 'queued' && o.state !== 'retrying') return o;
      if (Date.now() > deadline || this.stopped) return o;
      await sleep(250);
    }
  }

  /** Polls the seed mailbox until the check's copy is there or the deadline passes. */
  private async arrival(
    s: TransitCheckSettings,
    id: string,
    deadline: number,
  ): Promise<Buffer | undefined> {
    const timeoutMs = 30_000;
    const client = await openSeedMailbox(s.imap, {
      allowPrivate: this.env.IMAP_ALLOW_PRIVATE,
      timeoutMs,
    });
    try {
      for (;;) {
        const copy = await takeCheckCopy(client, s.imap.mailbox, id);
        if (copy) return copy;
        if (Date.now() > deadline || this.stopped) return undefined;
        await sleep(this.env.TRANSIT_CHECK_POLL_SECONDS * 1000);
      }
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  private async analyse(
    received: Buffer,
    sent: Buffer | null,
    result: TransitCheckResult,
  ): Promise<void> {
    const report = await verifyMessage(received);
    result.smime = {
      valid: report.valid,
      format: report.format,
      signer: report.signer?.emailAddresses.join(', '),
      errors: report.errors,
    };
    if (!report.valid) {
      const why = report.errors.map((e) => `[${e.code}] ${e.message}`).join('; ');
      result.problems.push(`the S/MIME signature does not verify on the delivered copy: ${why}`);
    }
    const domain = sent ? relayDkimDomain(sent) : undefined;
    if (domain) {
      const lookup = this.dns.lookup;
      const resolver = async (name: string, type: string): Promise<string[][]> => {
        const records = type === 'TXT' ? await lookup.txt(name) : [];
        if (!records.length) {
          throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
        }
        return records;
      };
      const verdict = await dkimVerify(received, { resolver });
      const mine = verdict.results.find((r) => r.signingDomain?.toLowerCase() === domain);
      result.dkim = {
        result: mine?.status.result ?? 'none',
        domain,
        comment: mine ? mine.status.comment : 'the relay’s DKIM signature is missing',
      };
      if (result.dkim.result !== 'pass') {
        result.problems.push(
          `DKIM (d=${domain}) does not pass on the delivered copy: ${result.dkim.result}` +
            (result.dkim.comment ? ` (${result.dkim.comment})` : ''),
        );
      }
    } else {
      result.dkim = { result: 'none', comment: 'the tenant has no DKIM key for this From' };
    }
    if (sent) {
      result.changes = transitDiff(sent, received);
      const signed = result.changes.signedPart;
      if ('unreadable' in signed) result.problems.push(signed.unreadable);
      else if (!signed.identical) {
        const parts = signed.parts.filter((p) => p.change !== 'unchanged');
        const which = parts.length
          ? ` (parts ${parts.map((p) => `${p.part} ${p.contentType} ${p.change}`).join(', ')})`
          : '';
        result.problems.push(
          `the signed part changed in transit${which}: ${signed.explanation}; ` +
            `first difference at line ${signed.firstDifference?.line}`,
        );
      }
    }
  }

  list(tenantId: string, limit = 20): Promise<TransitCheckView[]> {
    return this.records.list(tenantId, limit);
  }

  get(tenantId: string, id: string): Promise<TransitCheckView | undefined> {
    return this.records.get(tenantId, id);
  }
}
