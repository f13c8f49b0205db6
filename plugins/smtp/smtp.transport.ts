/**
 * Outbound SMTP to any relay host: the signed message goes out byte for byte (nodemailer's
 * `raw`) with the original envelope, over a pooled connection per upstream.
 */
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { createHash } from 'node:crypto';
import { createTransport, type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { DeliveryResult, DeliveryTransport, Envelope } from '../../src/plugin/contract';

export class SmtpAuthSettings {
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  user!: string;

  @IsString()
  @MaxLength(2048)
  pass!: string;
}

export class SmtpDeliverySettings {
  @IsString()
  @MinLength(1)
  @MaxLength(253)
  host!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  port = 587;

  /** Implicit TLS from the first byte (port 465). */
  @IsOptional()
  @IsBoolean()
  secure = false;

  /** Refuse to send unless STARTTLS succeeds. */
  @IsOptional()
  @IsBoolean()
  requireTLS = false;

  /** Check the upstream's certificate (default true; false only for a private test host). */
  @IsOptional()
  @IsBoolean()
  rejectUnauthorized = true;

  /** Pooled connections to this upstream, per worker process. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  maxConnections = 5;

  @IsOptional()
  @ValidateNested()
  @Type(() => SmtpAuthSettings)
  auth?: SmtpAuthSettings;
}

const TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 120_000 };

function options(s: SmtpDeliverySettings): SMTPPool.Options {
  return {
    pool: true,
    host: s.host,
    port: s.port,
    secure: s.secure,
    requireTLS: s.requireTLS,
    maxConnections: s.maxConnections,
    maxMessages: 1000,
    auth: s.auth ? { user: s.auth.user, pass: s.auth.pass } : undefined,
    tls: { rejectUnauthorized: s.rejectUnauthorized },
    ...TIMEOUTS,
  };
}

export class SmtpTransport implements DeliveryTransport<SmtpDeliverySettings> {
  readonly id = 'smtp';
  readonly settings = SmtpDeliverySettings;
  readonly secretFields = ['auth.pass'];
  /** One pool per distinct settings (the key is a hash, so no secret is kept as a key). */
  private readonly pools = new Map<string, Transporter>();

  private pool(s: SmtpDeliverySettings): Transporter {
    const key = createHash('sha256')
      .update(JSON.stringify(options(s)))
      .digest('hex');
    let pool = this.pools.get(key);
    if (!pool) {
      pool = createTransport(options(s));
      this.pools.set(key, pool);
    }
    return pool;
  }

  async send(signed: Buffer, envelope: Envelope, s: SmtpDeliverySettings): Promise<DeliveryResult> {
    const info = await this.pool(s).sendMail({
      envelope: { from: envelope.from, to: envelope.to },
      raw: signed,
    });
    const response = typeof info.response === 'string' ? info.response : undefined;
    const queued = response && /queued as ([^\s]+)/i.exec(response);
    return { response, providerMessageId: queued ? queued[1] : undefined };
  }

  async verify(s: SmtpDeliverySettings): Promise<void> {
    const probe = createTransport({ ...options(s), pool: false });
    try {
      await probe.verify();
    } finally {
      probe.close();
    }
  }

  async close(): Promise<void> {
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }
}
