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
import type { SettingsFieldDeclaration } from '../../src/plugin/contract';

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
  readonly fields: readonly SettingsFieldDeclaration[] = [
    {
      name: 'host',
      label: 'SMTP host',
      type: 'text',
      required: true,
      help: "The upstream's host name or IP address, as the platform's own SMTP settings name it.",
      placeholder: 'smtp.example.com',
    },
    {
      name: 'port',
      label: 'Port',
      type: 'integer',
      min: 1,
      max: 65535,
      help: '587 with STARTTLS, 465 with TLS from the start, 25 between servers.',
    },
    {
      name: 'secure',
      label: 'TLS from the start',
      type: 'boolean',
      help: 'On for port 465 (implicit TLS); off for STARTTLS.',
    },
    {
      name: 'requireTLS',
      label: 'Require STARTTLS',
      type: 'boolean',
      help: 'Send nothing unless the upstream offers STARTTLS.',
    },
    {
      name: 'rejectUnauthorized',
      label: "Check the server's TLS certificate",
      type: 'boolean',
      help: 'Leave on; off only for a private test host.',
    },
    {
      name: 'maxConnections',
      label: 'Connections at most',
      type: 'integer',
      min: 1,
      max: 50,
      help: 'Pooled connections to this upstream, per worker process.',
    },
    {
      name: 'auth.user',
      label: 'Username',
      type: 'text',
      help: 'The SMTP AUTH login; empty when the upstream takes mail without one.',
    },
    {
      name: 'auth.pass',
      label: 'Password',
      type: 'secret',
      help: 'Kept encrypted; never shown again.',
    },
  ];
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
