import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cappedBackoff, JOB_OPTIONS, UNEXPECTED_ERROR_BACKOFF } from './relay-queue';

test('a job that threw is retried after 5, 10, 20, 40 s, then every minute', () => {
  assert.equal(
    JOB_OPTIONS.backoff && typeof JOB_OPTIONS.backoff === 'object' && JOB_OPTIONS.backoff.type,
    UNEXPECTED_ERROR_BACKOFF,
  );
  const delays = [1, 2, 3, 4, 5, 6, 50, 1000].map((n) =>
    cappedBackoff(n, UNEXPECTED_ERROR_BACKOFF),
  );
  assert.deepEqual(delays, [5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000, 60_000]);
});

test('another backoff type is not this strategy’s to answer', () => {
  assert.equal(cappedBackoff(1, 'something-else'), -1);
});
