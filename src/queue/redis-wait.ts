/**
 * A relay whose Redis does not answer still takes mail (it is spooled in the database and
 * queued once Redis is back), but nothing is delivered meanwhile: say so plainly at start-up
 * and every minute until Redis answers, naming REDIS_URL (without its password).
 */
import type { Logger } from '@nestjs/common';
import { pingRedis } from '../health/redis-ping';

export const REDIS_WAIT_LOG_MS = 60_000;

/** REDIS_URL as it may be logged: the password replaced. */
export function shownRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'REDIS_URL';
  }
}

/** Starts watching; returns a function that stops it. */
export function watchRedisAtStart(
  url: string,
  log: Pick<Logger, 'warn' | 'log'>,
  everyMs = REDIS_WAIT_LOG_MS,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let waited = false;
  const check = async (): Promise<void> => {
    if (stopped) return;
    if (await pingRedis(url, 2000)) {
      if (waited) log.log(`Redis at ${shownRedisUrl(url)} answers: queued mail is delivered again`);
      return;
    }
    waited = true;
    log.warn(
      `waiting for Redis at ${shownRedisUrl(url)} (REDIS_URL): mail is accepted and kept, ` +
        'but nothing is delivered until Redis answers; /readyz stays 503',
    );
    if (!stopped) {
      timer = setTimeout(() => void check(), everyMs);
      timer.unref();
    }
  };
  void check();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
