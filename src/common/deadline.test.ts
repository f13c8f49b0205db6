import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeadlineExceeded, withDeadline } from './deadline';

const after = <T>(ms: number, value: T, fail = false) =>
  new Promise<T>((resolve, reject) =>
    setTimeout(() => (fail ? reject(new Error(String(value))) : resolve(value)), ms),
  );

describe('withDeadline', () => {
  test('work that settles in time gives its own result or failure', async () => {
    assert.equal(await withDeadline(after(5, 'sent'), 1_000, 'the send'), 'sent');
    await assert.rejects(withDeadline(after(5, 'refused', true), 1_000, 'the send'), /refused/);
  });

  test('work past the deadline fails with DeadlineExceeded naming it; its late failure is swallowed', async () => {
    const late = after(200, 'late failure', true);
    await assert.rejects(
      withDeadline(late, 20, 'the smtp transport'),
      (e: unknown) =>
        e instanceof DeadlineExceeded &&
        e.message === 'the smtp transport did not finish within 20 ms',
    );
    await assert.rejects(late); // settles later; no unhandled rejection reaches the process
  });

  test('seconds read as such', async () => {
    assert.equal(new DeadlineExceeded('a', 300_000).message, 'a did not finish within 300 s');
    assert.equal(new DeadlineExceeded('a', 1_500).message, 'a did not finish within 1.5 s');
  });
});
