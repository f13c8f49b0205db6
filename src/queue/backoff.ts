/**
 * When to try a deferred message again: exponential backoff with full jitter in the upper
 * half ("equal jitter"), capped, and a retry period after which the message fails.
 * Defaults: 1 min, 2, 4, … up to 4 h between attempts; give up 48 h after acceptance.
 */
export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  giveUpAfterMs: number;
}

export function retryPolicyFrom(env: {
  RETRY_INITIAL_SECONDS: number;
  RETRY_MAX_SECONDS: number;
  RETRY_GIVE_UP_HOURS: number;
}): RetryPolicy {
  return {
    initialMs: env.RETRY_INITIAL_SECONDS * 1000,
    maxMs: env.RETRY_MAX_SECONDS * 1000,
    giveUpAfterMs: env.RETRY_GIVE_UP_HOURS * 3600_000,
  };
}

/** The delay before attempt `failedAttempts + 1`; `random` is in [0, 1). */
export function retryDelayMs(
  failedAttempts: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 40);
  const base = Math.min(policy.initialMs * 2 ** exponent, policy.maxMs);
  return Math.round(base / 2 + (base / 2) * random());
}

/**
 * The next attempt's time, or undefined when the retry period is over. The last attempt
 * is made at the end of the period, not skipped.
 */
export function nextAttemptAt(
  failedAttempts: number,
  periodFrom: Date,
  now: Date,
  policy: RetryPolicy,
  random: () => number = Math.random,
): Date | undefined {
  const deadline = periodFrom.getTime() + policy.giveUpAfterMs;
  if (now.getTime() >= deadline) return undefined;
  return new Date(Math.min(now.getTime() + retryDelayMs(failedAttempts, policy, random), deadline));
}
