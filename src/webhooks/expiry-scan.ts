/**
 * Certificate expiry notices: at start-up and daily, every active certificate within 30,
 * 14, 7 or 1 days of notAfter gets a `certificate.expiring` event once per threshold, and
 * one past notAfter a `certificate.expired` event once. A notice is claimed by inserting
 * its row in `certificate_notices` first, so several instances scanning at once send it
 * once. A certificate first seen inside several thresholds gets one notice, the nearest.
 */
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Database } from '../database/connection';
import { Rounds } from '../common/rounds';
import { DATABASE } from '../database/database.module';
import { recordEvent } from '../events/event-log';
import {
  expiringCertificates,
  type ActiveCertificate,
} from '../certificates/certificates.repository';

export const EXPIRY_THRESHOLDS_DAYS = [30, 14, 7, 1] as const;
const DAY_MS = 86_400_000;

@Injectable()
export class ExpiryScan implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('ExpiryScan');
  /** At start-up, then daily. */
  private readonly rounds = new Rounds(() =>
    this.scan()
      .catch((e: Error) => this.log.warn(`expiry scan failed, will run again: ${e.message}`))
      .then(() => DAY_MS),
  );

  constructor(@Inject(DATABASE) private readonly db: Database) {}

  onApplicationBootstrap(): void {
    this.rounds.start();
  }

  /** One scan at `now`; returns the notices sent. */
  async scan(now = new Date()): Promise<{ certificateId: string; notice: string }[]> {
    const rows = await expiringCertificates(
      this.db.session,
      new Date(now.getTime() + EXPIRY_THRESHOLDS_DAYS[0] * DAY_MS),
    );
    const sent: { certificateId: string; notice: string }[] = [];
    for (const c of rows) {
      const notice = await this.claim(c, now);
      if (notice) sent.push({ certificateId: c.id, notice });
    }
    if (sent.length) this.log.log(`sent ${sent.length} certificate expiry notice(s)`);
    return sent;
  }

  /** Claim the notices due for one certificate and record the nearest newly claimed one. */
  private async claim(c: ActiveCertificate, now: Date): Promise<string | undefined> {
    const msLeft = new Date(c.notAfter).getTime() - now.getTime();
    const due =
      msLeft < 0
        ? ['expired']
        : EXPIRY_THRESHOLDS_DAYS.filter((d) => msLeft <= d * DAY_MS).map((d) => `expiring-${d}`);
    if (due.length === 0) return undefined;
    return this.db.session.transaction(async (tx) => {
      const claimed = await tx.query<{ notice: string }>(
        `INSERT INTO certificate_notices (certificate_id, notice)
         SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING notice`,
        [c.id, due],
      );
      if (claimed.length === 0) return undefined;
      const nearest = due[due.length - 1];
      if (!claimed.some((r) => r.notice === nearest)) return undefined;
      const certificate = {
        id: c.id,
        fingerprintSha256: c.fingerprintSha256,
        emailAddresses: c.emailAddresses,
        notAfter: new Date(c.notAfter).toISOString(),
      };
      if (nearest === 'expired') {
        await recordEvent(tx, c.tenantId, 'certificate.expired', { certificate });
      } else {
        await recordEvent(tx, c.tenantId, 'certificate.expiring', {
          certificate,
          daysLeft: Math.max(0, Math.floor(msLeft / DAY_MS)),
          thresholdDays: Number(nearest.slice('expiring-'.length)),
        });
      }
      return nearest;
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.rounds.stop();
  }
}
