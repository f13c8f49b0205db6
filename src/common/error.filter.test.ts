import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSafely } from './error.filter';

describe('logging unexpected errors', () => {
  it('keeps the first line of each message and the stack frames, never query parameters', () => {
    const cause = new Error('invalid byte sequence for encoding "UTF8": 0x00');
    const e = new Error(
      'Failed query: insert into "certificates" values ($1, $2)\nparams: srk_secret-key,sealed',
      {
        cause,
      },
    );
    const logged = describeSafely(e);
    assert.match(logged, /Failed query: insert into "certificates"/);
    assert.match(logged, /<- Error: invalid byte sequence/);
    assert.match(logged, /\n\s+at /);
    assert.doesNotMatch(logged, /srk_secret-key|params/);
  });
});
