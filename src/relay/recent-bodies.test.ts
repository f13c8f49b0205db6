import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecentBodies } from './recent-bodies';
import { prepareMessage } from '../smime';

describe('RecentBodies', () => {
  test('hands a body out once', () => {
    const bodies = new RecentBodies(1000);
    bodies.put('a', Buffer.from('hello'));
    assert.equal(bodies.take('a')?.raw.toString(), 'hello');
    assert.equal(bodies.take('a'), undefined);
  });

  test('drops the oldest bodies beyond its byte limit', () => {
    const bodies = new RecentBodies(1000);
    for (const id of ['a', 'b', 'c', 'd', 'e']) bodies.put(id, Buffer.alloc(240));
    assert.equal(bodies.size, 4);
    assert.equal(bodies.take('a'), undefined);
    assert.equal(bodies.take('e')?.raw.length, 240);
  });

  test('keeps the prepared entity with its body, counting it as much again', () => {
    const raw = Buffer.from('From: news@example.com\r\n\r\nHello\r\n');
    const prepared = prepareMessage(raw);
    const bodies = new RecentBodies(1000);
    bodies.put('a', raw, prepared);
    assert.equal(bodies.take('a')?.prepared, prepared);
    const tight = new RecentBodies(raw.length * 7);
    tight.put('big', raw, prepared);
    assert.equal(tight.take('big'), undefined, 'twice the body is more than a quarter of 7×');
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
