/**
 * The SMTP plugin's own variables, validated when the plugin registers.
 */
import { plainToInstance, Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, Min, validateSync } from 'class-validator';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../src/plugin/config-error';

const bool = ({ value }: { value: unknown }): unknown =>
  value === undefined || value === ''
    ? undefined
    : value === true || value === 'true' || value === '1';
const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  value === '' ? undefined : value;

export class SmtpConfig {
  /** Submission port (STARTTLS when a certificate is configured). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  SMTP_PORT = 2525;

  @IsString()
  SMTP_HOST = '127.0.0.1';

  /** Implicit-TLS submission port (like 465); off unless set. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  SMTPS_PORT?: number;

  /** PEM files of the server certificate (with its chain) and key, for STARTTLS and SMTPS. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  SMTP_TLS_CERT?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  SMTP_TLS_KEY?: string;

  /** Allow AUTH over an unencrypted connection from other hosts than loopback. */
  @Transform(bool)
  @IsBoolean()
  SMTP_ALLOW_INSECURE_AUTH = false;

  /** Failed AUTH attempts from one client address within 5 minutes before it is locked out for 5. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  SMTP_AUTH_FAILURES_PER_ADDRESS = 10;

  /** Failed AUTH attempts for one username within 5 minutes before it is locked out for 5. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  SMTP_AUTH_FAILURES_PER_USERNAME = 20;

  /** SMTP connections at once from one client address; more get 421. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  SMTP_MAX_CONNECTIONS_PER_ADDRESS = 50;

  /** SMTP connections at once in all; more get 421. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  SMTP_MAX_CONNECTIONS = 500;

  /** The name in the greeting and EHLO reply; default the machine's host name. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  SMTP_HOSTNAME?: string;
}

export interface SmtpTls {
  cert: Buffer;
  key: Buffer;
}

export function loadSmtpConfig(env: Record<string, string | undefined>): {
  config: SmtpConfig;
  tls?: SmtpTls;
} {
  const keys = Object.keys(new SmtpConfig()).concat([
    'SMTPS_PORT',
    'SMTP_TLS_CERT',
    'SMTP_TLS_KEY',
    'SMTP_HOSTNAME',
  ]);
  const plain = Object.fromEntries(
    keys.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]),
  );
  const config = plainToInstance(SmtpConfig, plain);
  const errors = validateSync(config);
  if (errors.length) {
    const lines = errors.map(
      (e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`,
    );
    throw new ConfigError(`the SMTP configuration is not valid:\n  ${lines.join('\n  ')}`);
  }
  if (!config.SMTP_TLS_CERT !== !config.SMTP_TLS_KEY) {
    throw new ConfigError('SMTP_TLS_CERT and SMTP_TLS_KEY go together; set both or neither');
  }
  if (config.SMTPS_PORT !== undefined && !config.SMTP_TLS_CERT) {
    throw new ConfigError('SMTPS_PORT needs SMTP_TLS_CERT and SMTP_TLS_KEY');
  }
  let tls: SmtpTls | undefined;
  if (config.SMTP_TLS_CERT && config.SMTP_TLS_KEY) {
    const read = (name: string, path: string): Buffer => {
      try {
        return readFileSync(path);
      } catch {
        throw new ConfigError(`${name} names ${path}, which cannot be read`);
      }
    };
    tls = {
      cert: read('SMTP_TLS_CERT', config.SMTP_TLS_CERT),
      key: read('SMTP_TLS_KEY', config.SMTP_TLS_KEY),
    };
  }
  return { config, tls };
}
