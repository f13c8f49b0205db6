import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecentBodies } from './recent-bodies';

describe('RecentBodies', () => {
  test('hands a body out once', () => {
    const bodies = new RecentBodies(1000);
    bodies.put('a', Buffer.from('hello'));
    assert.equal(bodies.take('a')?.toString(), 'hello');
    assert.equal(bodies.take('a'), undefined);
  });

  test('drops the oldest bodies beyond its byte limit', () => {
    const bodies = new RecentBodies(1000);
    for (const id of ['a', 'b', 'c', 'd', 'e']) bodies.put(id, Buffer.alloc(240));
    assert.equal(bodies.size, 4);
    assert.equal(bodies.take('a'), undefined);
    assert.equal(bodies.take('e')?.length, 240);
  });

  test('keeps nothing with a limit of 0, and nothing too large for its limit', () => {
    const none = new RecentBodies(0);
    none.put('a', Buffer.alloc(1));
    assert.equal(none.take('a'), undefined);
    const small = new RecentBodies(1000);
    small.put('big', Buffer.alloc(300));
    assert.equal(small.take('big'), undefined);
  });
});
