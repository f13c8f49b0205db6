import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFrom, mailboxAddresses } from './address';
import type { HeaderField } from './mime';

const from = (value: string): HeaderField[] => [{ name: 'from', raw: `From: ${value}` }];

describe('From: addresses', () => {
  it('reads display names, quotes with commas, comments and bare addresses', () => {
    assert.deepEqual(mailboxAddresses('"Doe, Jane" <Jane@Example.com>'), ['jane@example.com']);
    assert.deepEqual(mailboxAddresses('news@example.com (Example News)'), ['news@example.com']);
    assert.deepEqual(mailboxAddresses('=?utf-8?B?44OL44Ol44O844K5?= <news@example.com>'), [
      'news@example.com',
    ]);
    assert.deepEqual(mailboxAddresses('a@example.com, "B" <b@example.com>'), [
      'a@example.com',
      'b@example.com',
    ]);
    assert.deepEqual(mailboxAddresses('team: a@example.com, b@example.com;'), [
      'a@example.com',
      'b@example.com',
    ]);
  });

  it('accepts the certificate address in any case', () => {
    assert.equal(
      checkFrom(from('News <NEWS@Example.COM>'), ['news@example.com']),
      'news@example.com',
    );
  });

  it('refuses a missing, a doubled and a foreign From:', () => {
    const code = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        return (e as { code: string }).code;
      }
      return 'none';
    };
    assert.equal(
      code(() => checkFrom([], ['news@example.com'])),
      'no_from',
    );
    assert.equal(
      code(() => checkFrom(from(''), ['news@example.com'])),
      'no_from',
    );
    assert.equal(
      code(() => checkFrom([...from('a@x.org'), ...from('a@x.org')], ['a@x.org'])),
      'multiple_from',
    );
    assert.equal(
      code(() => checkFrom(from('a@x.org, b@x.org'), ['a@x.org'])),
      'multiple_from',
    );
    assert.equal(
      code(() => checkFrom(from('other@example.org'), ['news@example.com'])),
      'from_mismatch',
    );
  });
});
