/**
 * A tenant's transit-check settings: the seed mailbox a check message goes to, how to read
 * it back (IMAP; the password sealed at rest like every other secret), the From address and
 * the schedule.
 */
import type { SealedColumn } from '../secrets/rotate-master-key';
import { Inject, Injectable } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance, Type } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { MASTER_KEYS } from '../config/tokens';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import type { KeyOwner, MasterKeyRing } from '../secrets/key-vault';
import { SealedSettings } from '../secrets/sealed-settings';

export const SCHEDULES = ['off', 'hourly', 'daily'] as const;
export type Schedule = (typeof SCHEDULES)[number];
export const SCHEDULE_MS: Record<Schedule, number | null> = {
  off: null,
  hourly: 3600_000,
  daily: 86_400_000,
};
export const IMAP_TLS = ['implicit', 'starttls', 'none'] as const;

export class SeedImapSettings {
  @ApiProperty({ type: String, example: 'imap.example.net' })
  @IsString()
  @Matches(/^[A-Za-z0-9.-]{1,253}$|^\[?[0-9a-fA-F:.]+\]?$/, {
    message: 'imap.host must be a host name or an IP address',
  })
  host!: string;

  @ApiPropertyOptional({ type: Number, default: 993 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  port = 993;

  /** `implicit` (IMAPS, the default), `starttls`, or `none` (loopback only). */
  @ApiPropertyOptional({ type: String, enum: IMAP_TLS, default: 'implicit' })
  @IsOptional()
  @IsIn(IMAP_TLS)
  tls: (typeof IMAP_TLS)[number] = 'implicit';

  /** Check the server's certificate (default true; false only for a private test host). */
  @ApiPropertyOptional({ type: Boolean, default: true })
  @IsOptional()
  @IsBoolean()
  rejectUnauthorized = true;

  @ApiProperty({ type: String })
  @IsString()
  @MinLength(1)
  @MaxLength(320)
  user!: string;

  /** Secret: sealed at rest, read back as "[redacted]". */
  @ApiProperty({ type: String })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  pass!: string;

  @ApiPropertyOptional({ type: String, default: 'INBOX' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  mailbox = 'INBOX';
}

export class TransitCheckSettings {
  /** The seed mailbox's address: where check messages go. */
  @ApiProperty({ type: String, example: 'seed@example.net' })
  @IsEmail({ require_tld: false })
  to!: string;

  /** The From address of check messages; default the first address of the newest certificate. */
  @ApiPropertyOptional({ type: String, example: 'news@example.com' })
  @IsOptional()
  @IsEmail({ require_tld: false })
  from?: string;

  @ApiProperty({ type: () => SeedImapSettings })
  @ValidateNested()
  @Type(() => SeedImapSettings)
  imap!: SeedImapSettings;

  @ApiPropertyOptional({ type: String, enum: SCHEDULES, default: 'daily' })
  @IsOptional()
  @IsIn(SCHEDULES)
  schedule: Schedule = 'daily';
}

export const SECRET_FIELDS = ['imap.pass'];

export const transitSecretsOwner = (tenantId: string): KeyOwner => ({
  tenantId,
  certificateId: 'transit-check',
});

/** Seed mailbox passwords, for master key rotation. */
export const TRANSIT_SECRETS: SealedColumn = {
  what: 'transit-check mailbox passwords',
  select:
    'SELECT tenant_id, tenant_id AS key, sealed_secrets AS sealed FROM transit_check_settings WHERE sealed_secrets IS NOT NULL',
  update:
    'UPDATE transit_check_settings SET sealed_secrets = $1 WHERE tenant_id = $2 AND sealed_secrets = $3',
  owner: (row) => transitSecretsOwner(row.tenant_id),
};

@Injectable()
export class TransitSettingsStore {
  /** Always a sealed record (the password is required); the view redacts without opening it. */
  private readonly fields: SealedSettings<TransitCheckSettings>;

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(MASTER_KEYS) keys: MasterKeyRing,
  ) {
    this.fields = new SealedSettings(TransitCheckSettings, SECRET_FIELDS, keys, {
      sealEmpty: true,
      nothingToKeep: (p) => `${p}: there is no stored password to keep`,
    });
  }

  /** The stored settings with their secrets, or undefined. */
  async open(tenantId: string): Promise<TransitCheckSettings | undefined> {
    const [row] = await this.db.session.query<{ settings: object; sealed_secrets: Buffer | null }>(
      'SELECT settings, sealed_secrets FROM transit_check_settings WHERE tenant_id = $1',
      [tenantId],
    );
    if (!row) return undefined;
    return this.fields.open(row.settings, row.sealed_secrets, transitSecretsOwner(tenantId));
  }

  /** As the API shows them: secrets as "[redacted]". */
  async view(tenantId: string): Promise<(object & { nextRunAt: string | null }) | undefined> {
    const [row] = await this.db.session.query<{ settings: object; next_run_at: Date | null }>(
      'SELECT settings, next_run_at FROM transit_check_settings WHERE tenant_id = $1',
      [tenantId],
    );
    if (!row) return undefined;
    return {
      ...this.fields.redact(row.settings),
      nextRunAt: row.next_run_at ? new Date(row.next_run_at).toISOString() : null,
    };
  }

  /**
   * Store settings; a secret sent as "[redacted]" keeps the stored one. The first scheduled
   * check runs one interval from now.
   */
  /** `settings` with a password sent as "[redacted]" replaced by the stored one. */
  async withStoredSecrets(
    tenantId: string,
    settings: TransitCheckSettings,
  ): Promise<TransitCheckSettings> {
    const kept = await this.fields.keepRedacted(settings, () => this.open(tenantId));
    return plainToInstance(TransitCheckSettings, kept);
  }

  async save(tenantId: string, settings: TransitCheckSettings): Promise<void> {
    const kept = await this.fields.keepRedacted(settings, () => this.open(tenantId));
    const { plain, sealed } = this.fields.seal(kept, transitSecretsOwner(tenantId));
    const every = SCHEDULE_MS[settings.schedule];
    await this.db.session.query(
      `INSERT INTO transit_check_settings (tenant_id, settings, sealed_secrets, next_run_at, updated_at)
       VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (tenant_id) DO UPDATE SET settings = EXCLUDED.settings,
         sealed_secrets = EXCLUDED.sealed_secrets, next_run_at = EXCLUDED.next_run_at,
         updated_at = now()`,
      [tenantId, JSON.stringify(plain), sealed, every ? new Date(Date.now() + every) : null],
    );
  }

  async remove(tenantId: string): Promise<boolean> {
    const rows = await this.db.session.query(
      'DELETE FROM transit_check_settings WHERE tenant_id = $1 RETURNING tenant_id',
      [tenantId],
    );
    return rows.length > 0;
  }

  /**
   * Claims the tenants whose scheduled check is due: their next run moves one interval on in
   * the same statement, so several instances start each check once.
   */
  async claimDue(now = new Date()): Promise<string[]> {
    const rows = await this.db.session.query<{ tenant_id: string }>(
      `UPDATE transit_check_settings SET next_run_at = $1::timestamptz +
         CASE settings->>'schedule' WHEN 'hourly' THEN interval '1 hour' ELSE interval '1 day' END
       WHERE tenant_id IN (
         SELECT tenant_id FROM transit_check_settings
          WHERE next_run_at IS NOT NULL AND next_run_at <= $1
          ORDER BY next_run_at LIMIT 20 FOR UPDATE SKIP LOCKED)
       RETURNING tenant_id`,
      [now],
    );
    return rows.map((r) => r.tenant_id);
  }
}
