import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextAttemptAt, retryDelayMs, retryPolicyFrom, type RetryPolicy } from './backoff';

const policy: RetryPolicy = { initialMs: 1_000, maxMs: 30_000, giveUpAfterMs: 3_600_000 };

/** The smallest and the largest value `random` may return ([0, 1)). */
const lowest = (): number => 0;
const highest = (): number => 1 - Number.EPSILON;

/** A repeatable stream of numbers in [0, 1). */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('retry policy', () => {
  it('reads seconds and hours from the environment as milliseconds', () => {
    assert.deepEqual(
      retryPolicyFrom({
        RETRY_INITIAL_SECONDS: 0.2,
        RETRY_MAX_SECONDS: 1,
        RETRY_GIVE_UP_HOURS: 48,
      }),
      { initialMs: 200, maxMs: 1_000, giveUpAfterMs: 48 * 3_600_000 },
    );
  });

  it('starts at the initial delay and doubles it after each failed attempt', () => {
    const bases = [1, 2, 3, 4, 5].map((failed) => retryDelayMs(failed, policy, highest));
    assert.deepEqual(bases, [1_000, 2_000, 4_000, 8_000, 16_000]);
    const halves = [1, 2, 3, 4, 5].map((failed) => retryDelayMs(failed, policy, lowest));
    assert.deepEqual(halves, [500, 1_000, 2_000, 4_000, 8_000]);
  });

  it('treats "no failed attempt yet" like the first one', () => {
    assert.equal(retryDelayMs(0, policy, highest), 1_000);
  });

  it('never waits longer than the maximum, however many attempts failed', () => {
    for (const failed of [6, 7, 10, 50, 1_000, Number.MAX_SAFE_INTEGER]) {
      const delay = retryDelayMs(failed, policy, highest);
      assert.ok(Number.isFinite(delay), `finite delay after ${failed} attempts`);
      assert.equal(delay, 30_000, `delay after ${failed} attempts`);
      assert.equal(retryDelayMs(failed, policy, lowest), 15_000);
    }
  });

  it('jitters each delay within [base/2, base] and does not always pick the same value', () => {
    const random = seeded(7);
    for (const [failed, base] of [
      [1, 1_000],
      [3, 4_000],
      [20, 30_000],
    ] as const) {
      const delays = Array.from({ length: 500 }, () => retryDelayMs(failed, policy, random));
      for (const d of delays) {
        assert.ok(d >= base / 2 && d <= base, `${d} ms is outside [${base / 2}, ${base}]`);
      }
      assert.ok(new Set(delays).size > 100, `only ${new Set(delays).size} distinct delays`);
    }
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(2, policy);
      assert.ok(d >= 1_000 && d <= 2_000, `${d} ms with Math.random`);
    }
  });
});

describe('next attempt time', () => {
  const accepted = new Date('2030-01-01T00:00:00Z');
  const deadline = accepted.getTime() + policy.giveUpAfterMs;
  const at = (msAfterAcceptance: number): Date => new Date(accepted.getTime() + msAfterAcceptance);

  it('is now plus the jittered delay while the retry period runs', () => {
    const now = at(10_000);
    assert.equal(nextAttemptAt(1, accepted, now, policy, lowest)?.getTime(), now.getTime() + 500);
    assert.equal(
      nextAttemptAt(3, accepted, now, policy, highest)?.getTime(),
      now.getTime() + 4_000,
    );
  });

  it('is undefined once the retry period is over, and at its very end', () => {
    assert.equal(nextAttemptAt(1, accepted, new Date(deadline), policy, lowest), undefined);
    assert.equal(nextAttemptAt(1, accepted, new Date(deadline + 1), policy, lowest), undefined);
    assert.equal(nextAttemptAt(9, accepted, at(10 * policy.giveUpAfterMs), policy), undefined);
  });

  it('schedules the last attempt at the deadline instead of after it', () => {
    const now = new Date(deadline - 100);
    assert.equal(nextAttemptAt(5, accepted, now, policy, highest)?.getTime(), deadline);
  });

  it('never schedules beyond the deadline nor before now', () => {
    const random = seeded(42);
    for (let i = 0; i < 2_000; i++) {
      const now = at(Math.floor(random() * policy.giveUpAfterMs));
      const failed = 1 + Math.floor(random() * 12);
      const next = nextAttemptAt(failed, accepted, now, policy, random);
      assert.ok(next, `no attempt scheduled at ${now.toISOString()}`);
      assert.ok(next.getTime() <= deadline, `${next.toISOString()} is past the deadline`);
      assert.ok(next.getTime() > now.getTime(), `${next.toISOString()} is not after now`);
    }
  });

  it('gives up at once when the retry period is zero', () => {
    const none: RetryPolicy = { ...policy, giveUpAfterMs: 0 };
    assert.equal(nextAttemptAt(1, accepted, accepted, none), undefined);
  });
});
