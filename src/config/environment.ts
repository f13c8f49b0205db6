/**
 * The service's configuration: environment variables, validated once at boot into a typed
 * object. Every secret may also come from NAME_FILE (a mounted secret file). A bad value
 * stops start-up with a message that names the variable, never its value.
 */
import 'reflect-metadata';
import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsNumber,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  Validate,
  ValidatorConstraint,
  validateSync,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { parseUpstreamAllowList } from '../egress/egress-policy';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../plugin/config-error';

@ValidatorConstraint({ name: 'upstreamAllowList' })
class UpstreamAllowList implements ValidatorConstraintInterface {
  private problem = '';
  validate(value: unknown): boolean {
    try {
      parseUpstreamAllowList(String(value));
      return true;
    } catch (e) {
      this.problem = (e as Error).message;
      return false;
    }
  }
  defaultMessage(): string {
    return `SMTP_UPSTREAM_ALLOW must list CIDR networks and host names, comma-separated (${this.problem})`;
  }
}

/** Variables that may hold secrets; each can also be given as NAME_FILE. */
export const SECRET_VARIABLES = [
  'ADMIN_TOKEN',
  'MASTER_KEY',
  'MASTER_KEY_PREVIOUS',
  'DATABASE_URL',
  'REDIS_URL',
] as const;

const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  value === '' ? undefined : value;

export class Environment {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  /** PostgreSQL connection string; without it the embedded PGlite database under DATA_DIR. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^postgres(ql)?:\/\//, {
    message: 'DATABASE_URL must start with postgres:// or postgresql://',
  })
  DATABASE_URL?: string;

  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  @Type(() => Number)
  @IsInt({ message: 'HTTP_PORT must be a whole number' })
  @Min(1)
  @Max(65535)
  HTTP_PORT = 8080;

  @IsString()
  HTTP_HOST = '127.0.0.1';

  /**
   * The URL platforms use to reach the HTTP service (postback URLs are built from it);
   * default `http://HTTP_HOST:HTTP_PORT`.
   */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/, {
    message: 'PUBLIC_URL must be an http:// or https:// URL without query or fragment',
  })
  PUBLIC_URL?: string;

  /** The operator's bearer token; without it the admin API refuses every request. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters' })
  ADMIN_TOKEN?: string;

  /** 32 random bytes, base64; encrypts private keys at rest. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[A-Za-z0-9+/]{43}=$/, {
    message: 'MASTER_KEY must be 32 bytes in base64 (44 characters)',
  })
  MASTER_KEY?: string;

  /** Earlier master keys (comma-separated base64), still accepted while keys are re-wrapped. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[A-Za-z0-9+/]{43}=(,[A-Za-z0-9+/]{43}=)*$/, {
    message: 'MASTER_KEY_PREVIOUS must be base64 32-byte keys separated by commas',
  })
  MASTER_KEY_PREVIOUS?: string;

  @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must start with redis:// or rediss://' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Sentinel: comma-separated host:port list; REDIS_URL then supplies password and db. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[^,:\s]+:\d+(,[^,:\s]+:\d+)*$/, {
    message: 'REDIS_SENTINELS must be host:port entries separated by commas',
  })
  REDIS_SENTINELS?: string;

  /** The Sentinel master group name (with REDIS_SENTINELS). */
  @IsString()
  REDIS_SENTINEL_NAME = 'mymaster';

  /** Redis Cluster: REDIS_URL names one node; the rest are discovered. */
  @Transform(({ value }) => value === true || value === 'true' || value === '1')
  @IsBoolean()
  REDIS_CLUSTER = false;

  /** Prefix of every Redis key; the braces keep a queue's keys in one Cluster slot. */
  @IsString()
  @MinLength(1)
  QUEUE_PREFIX = '{smime-relay}';

  /** Largest message accepted, in bytes (announced as SMTP SIZE). */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(200 * 1024 * 1024)
  MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

  /** Days a raw message body is kept after its final state; metadata stays. */
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  RETENTION_DAYS = 7;

  /** Messages signed and delivered at once by one worker process. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  WORKER_CONCURRENCY = 32;

  /** First retry delay, in seconds; each later one doubles, with jitter. */
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  RETRY_INITIAL_SECONDS = 60;

  /** Longest delay between two attempts, in seconds. */
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  RETRY_MAX_SECONDS = 4 * 3600;

  /** A message still not delivered this many hours after it was accepted fails. */
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  RETRY_GIVE_UP_HOURS = 48;

  /** How often recovery looks for unfinished messages whose job is missing, in seconds. */
  @Type(() => Number)
  @IsNumber()
  @Min(0.1)
  RECOVERY_INTERVAL_SECONDS = 60;

  /**
   * The core's deadline on one hand-over to the upstream (a transport's send), in seconds.
   * Past it the attempt is deferred and retried; the upstream may still have taken the
   * message, so the retry can duplicate it. Transports time out on their own well before.
   */
  @Type(() => Number)
  @IsNumber()
  @Min(1)
  DELIVERY_DEADLINE_SECONDS = 300;

  /** The core's deadline on one platform feedback call (listmonk, Mautic), in seconds. */
  @Type(() => Number)
  @IsNumber()
  @Min(1)
  PLATFORM_CALLBACK_DEADLINE_SECONDS = 60;

  /**
   * How long a worker's hold on a job lasts unless renewed (every half of it), in seconds:
   * after a crash another worker takes the job over within this plus half of it.
   */
  @Type(() => Number)
  @IsNumber()
  @Min(1)
  WORKER_LOCK_SECONDS = 10;

  /**
   * Hours of failed calls without a success after which a subscription is disabled (its
   * events then wait until it is enabled again).
   */
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  WEBHOOK_DISABLE_AFTER_HOURS = 24;

  /** Let webhooks reach loopback and private addresses (tests, private networks). */
  @Transform(({ value }) => value === true || value === 'true' || value === '1')
  @IsBoolean()
  WEBHOOK_ALLOW_PRIVATE = false;

  /**
   * The public https URL of this relay's short one-click unsubscribe links (`/u/:token`),
   * used on delivery paths that re-encode long List-Unsubscribe fields; default PUBLIC_URL.
   */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/, {
    message: 'UNSUBSCRIBE_BASE_URL must be an http:// or https:// URL without query or fragment',
  })
  UNSUBSCRIBE_BASE_URL?: string;

  /** Days a short unsubscribe link keeps working. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  UNSUBSCRIBE_LINK_DAYS = 400;

  /**
   * Let provider API roots that the operator set (baseUrl, endpoint) reach loopback and
   * private addresses: a proxy or a test stand-in on a private network.
   */
  @Transform(({ value }) => value === true || value === 'true' || value === '1')
  @IsBoolean()
  PROVIDER_API_ALLOW_PRIVATE = false;

  /**
   * Private networks (CIDR) and host names an SMTP upstream may be on, comma-separated, e.g.
   * "10.20.0.0/16,mta.corp.internal"; public upstreams need no entry. Empty: none.
   */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @Validate(UpstreamAllowList)
  SMTP_UPSTREAM_ALLOW?: string;

  /**
   * PKCS#11 libraries a certificate's key may be reached through, comma-separated absolute
   * paths, e.g. "/usr/lib/softhsm/libsofthsm2.so". A tenant can only pick one of these: a
   * library runs inside the relay's process. Empty: no PKCS#11 custody.
   */
  @Transform(({ value }) =>
    Array.isArray(value)
      ? value
      : String(value ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
  )
  @IsString({ each: true })
  @Matches(/^\//, { each: true, message: 'PKCS11_MODULES must be absolute paths' })
  PKCS11_MODULES: string[] = [];

  /** Logged-in sessions per PKCS#11 key: signatures that run on the token at once. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  PKCS11_SESSIONS = 4;

  /** How long one AWS KMS request may take, in seconds (the SDK tries up to 3 times). */
  @Type(() => Number)
  @IsNumber()
  @Min(1)
  KMS_TIMEOUT_SECONDS = 10;

  /** Let transit checks read seed mailboxes on loopback and private IMAP servers. */
  @Transform(({ value }) => value === true || value === 'true' || value === '1')
  @IsBoolean()
  IMAP_ALLOW_PRIVATE = false;

  /** How long a transit check waits for its message in the seed mailbox, in seconds. */
  @Type(() => Number)
  @IsNumber()
  @Min(1)
  TRANSIT_CHECK_TIMEOUT_SECONDS = 900;

  /** How often a transit check looks into the seed mailbox while it waits, in seconds. */
  @Type(() => Number)
  @IsNumber()
  @Min(0.1)
  TRANSIT_CHECK_POLL_SECONDS = 10;

  /** Let platform feedback (listmonk, Mautic APIs) reach loopback and private addresses. */
  @Transform(({ value }) => value === true || value === 'true' || value === '1')
  @IsBoolean()
  PLATFORM_ALLOW_PRIVATE = false;

  /** First retry delay of platform feedback, in seconds; doubles up to 4 h, about 24 h in all. */
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  FEEDBACK_RETRY_INITIAL_SECONDS = 30;

  /** First webhook retry delay, in seconds; doubles up to 4 h, about 24 h in all. */
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  WEBHOOK_RETRY_INITIAL_SECONDS = 30;

  /** How long a receiver has to answer, in seconds. */
  @Type(() => Number)
  @IsNumber()
  @Min(0.1)
  WEBHOOK_TIMEOUT_SECONDS = 10;

  /** How often new events are handed to the webhook queue, in seconds. */
  @Type(() => Number)
  @IsNumber()
  @Min(0.05)
  WEBHOOK_DISPATCH_INTERVAL_SECONDS = 1;

  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';
}

export { ConfigError };

/** Replace each secret NAME by the content of NAME_FILE when that is set (trailing newline dropped). */
function withSecretFiles(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      throw new ConfigError(`${name} and ${name}_FILE are both set; set only one`);
    }
    try {
      out[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      const reason =
        (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
      throw new ConfigError(`${name}_FILE names ${file}, which ${reason}`);
    }
  }
  return out;
}

/** Validate the environment once; throws ConfigError naming every bad variable. */
export function loadEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const source = withSecretFiles(env);
  const known = Object.keys(new Environment());
  const plain = Object.fromEntries(
    [
      ...known,
      'DATABASE_URL',
      'ADMIN_TOKEN',
      'MASTER_KEY',
      'MASTER_KEY_PREVIOUS',
      'REDIS_SENTINELS',
      'PUBLIC_URL',
    ]
      .filter((k) => source[k] !== undefined)
      .map((k) => [k, source[k]]),
  );
  const config = plainToInstance(Environment, plain);
  const errors = validateSync(config, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const messages = Object.values(e.constraints ?? {});
      return `${e.property}: ${messages.reverse().join('; ') || 'is not valid'}`;
    });
    throw new ConfigError(`the configuration is not valid:\n  ${lines.join('\n  ')}`);
  }
  return config;
}

/** The URL platforms use to reach the HTTP service, without a trailing slash. */
export function publicUrl(
  env: Pick<Environment, 'PUBLIC_URL' | 'HTTP_HOST' | 'HTTP_PORT'>,
): string {
  if (env.PUBLIC_URL) return env.PUBLIC_URL.replace(/\/+$/, '');
  const host = env.HTTP_HOST.includes(':') ? `[${env.HTTP_HOST}]` : env.HTTP_HOST;
  return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${env.HTTP_PORT}`;
}
