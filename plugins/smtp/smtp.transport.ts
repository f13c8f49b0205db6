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
import { SmtpRelayTransport, type SmtpConnection } from '../../src/plugin/smtp-client';

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

export class SmtpTransport extends SmtpRelayTransport<SmtpDeliverySettings> {
  readonly id = 'smtp';
  readonly settings = SmtpDeliverySettings;
  readonly secretFields = ['auth.pass'];
  readonly destinationFields = [
    { path: 'host', destination: 'smtp-upstream', kind: 'host' },
  ] as const;

  protected connection(s: SmtpDeliverySettings): SmtpConnection {
    return {
      host: s.host,
      port: s.port,
      secure: s.secure,
      requireTLS: s.requireTLS,
      maxConnections: s.maxConnections,
      maxMessages: 1000,
      auth: s.auth ? { user: s.auth.user, pass: s.auth.pass } : undefined,
      tls: { rejectUnauthorized: s.rejectUnauthorized },
    };
  }
}
