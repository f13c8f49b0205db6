/**
 * Start-up failures as one line that names the setting and what to do: a port in use, a
 * PostgreSQL that cannot be reached or a database that does not exist. Anything else is
 * left as it is.
 */
import { ConfigError } from './environment';

interface SystemError {
  code?: string;
  port?: number;
  address?: string;
  message?: string;
}

/** Which setting names a port, from the process environment (plugins read their own). */
function portSetting(port: number | undefined, env: NodeJS.ProcessEnv, httpPort: number): string {
  if (port === httpPort) return 'HTTP_PORT';
  if (String(port) === (env.SMTPS_PORT ?? '')) return 'SMTPS_PORT';
  if (String(port) === (env.SMTP_PORT ?? '2525')) return 'SMTP_PORT';
  return 'the port settings (HTTP_PORT, SMTP_PORT, SMTPS_PORT)';
}

const where = (url: string): string => {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'the address in DATABASE_URL';
  }
};

export function explainStartupError(
  e: unknown,
  env: { HTTP_PORT: number; DATABASE_URL?: string },
  processEnv: NodeJS.ProcessEnv,
): unknown {
  if (e instanceof ConfigError) return e;
  const err = (e ?? {}) as SystemError;
  if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
    const setting = portSetting(err.port, processEnv, env.HTTP_PORT);
    const what = err.code === 'EADDRINUSE' ? 'is already in use' : 'may not be opened by this user';
    return new ConfigError(
      `port ${err.port ?? '?'} on ${err.address ?? 'this host'} ${what}: stop the other process or set ${setting} to a free port`,
    );
  }
  if (env.DATABASE_URL) {
    const at = where(env.DATABASE_URL);
    if (
      ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN'].includes(
        err.code ?? '',
      )
    ) {
      return new ConfigError(
        `cannot reach PostgreSQL at ${at} (${err.code}): start it, or fix DATABASE_URL`,
      );
    }
    if (err.code === '3D000') {
      const name = at.slice(at.indexOf('/') + 1) || 'named in DATABASE_URL';
      return new ConfigError(
        `the database ${name} does not exist on ${at.slice(0, at.indexOf('/'))}: create it (createdb ${name}) or fix DATABASE_URL`,
      );
    }
    if (err.code === '28P01' || err.code === '28000') {
      return new ConfigError(
        `PostgreSQL at ${at} refused the login: fix the user or password in DATABASE_URL`,
      );
    }
  }
  return e;
}
