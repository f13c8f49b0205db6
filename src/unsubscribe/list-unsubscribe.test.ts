import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fieldLength, findListUnsubscribe, replaceListUnsubscribe } from './list-unsubscribe';

const message = (fields: string[]): Buffer =>
  Buffer.from(
    [...fields, 'Subject: x', '', 'List-Unsubscribe: <https://in.body/>', ''].join('\r\n'),
  );

describe('List-Unsubscribe field', () => {
  test('a folded field: its links, its length unfolded, and only the header is read', () => {
    const raw = message([
      'From: a@example.com',
      'List-Unsubscribe: <mailto:u@lists.example.com?subject=unsubscribe>,',
      '  <https://lists.example.com/subscription/0b6f/9d2c?manage=true>',
    ]);
    const f = findListUnsubscribe(raw);
    assert.ok(f);
    assert.deepEqual(f.links, [
      'mailto:u@lists.example.com?subject=unsubscribe',
      'https://lists.example.com/subscription/0b6f/9d2c?manage=true',
    ]);
    assert.equal(fieldLength(f), f.unfolded.length);
    assert.ok(!f.unfolded.includes('\r\n'));
    const out = replaceListUnsubscribe(raw, f, ['https://r.example/u/abc']).toString('latin1');
    assert.equal(
      out,
      [
        'From: a@example.com',
        'List-Unsubscribe: <https://r.example/u/abc>',
        'Subject: x',
        '',
        'List-Unsubscribe: <https://in.body/>',
        '',
      ].join('\r\n'),
    );
  });

  test('none, or two fields: nothing to work on', () => {
    assert.equal(findListUnsubscribe(message(['From: a@example.com'])), undefined);
    const two = message(['List-Unsubscribe: <https://a/>', 'list-unsubscribe: <https://b/>']);
    assert.equal(findListUnsubscribe(two), undefined);
  });
});
