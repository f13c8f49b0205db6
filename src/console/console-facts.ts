/**
 * What the console needs to know about this service that the admin API did not say yet:
 * its version, the URL platforms reach it at, and where SMTP submission listens.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { publicUrl, type Environment } from '../config/environment';

export interface SmtpEndpoint {
  host: string;
  port: number;
  /** STARTTLS is offered on `port` (a server certificate is configured). */
  starttls: boolean;
  /** Implicit-TLS submission port, when one is open. */
  tlsPort?: number;
}

/** The version in the nearest package.json named smime-relay, from src/ or dist/src/. */
export function serviceVersion(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'smime-relay' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * The SMTP host and ports a platform should use: the host of PUBLIC_URL when set, else the
 * address SMTP binds to (a wildcard bind means this machine, 127.0.0.1).
 */
export function smtpEndpoint(
  env: Pick<Environment, 'PUBLIC_URL'>,
  processEnv: Record<string, string | undefined>,
): SmtpEndpoint {
  const bind = processEnv.SMTP_HOST ?? '127.0.0.1';
  const host = env.PUBLIC_URL
    ? new URL(env.PUBLIC_URL).hostname
    : WILDCARDS.has(bind)
      ? '127.0.0.1'
      : bind;
  const port = Number(processEnv.SMTP_PORT || 2525);
  const tls = processEnv.SMTPS_PORT ? Number(processEnv.SMTPS_PORT) : undefined;
  const starttls = Boolean(processEnv.SMTP_TLS_CERT && processEnv.SMTP_TLS_KEY);
  return { host, port, starttls, ...(tls ? { tlsPort: tls } : {}) };
}

export { publicUrl };
