import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseHeaderBlock } from './mime';
import {
  messageDate,
  parseDateHeader,
  signingTimeFor,
  SIGNING_TIME_WINDOW_MS,
} from './signing-time';

const iso = (v: string): string | undefined => parseDateHeader(v)?.toISOString();

describe('parseDateHeader', () => {
  test('RFC 5322 date-times, numeric and obsolete zones, comments', () => {
    assert.equal(iso('Thu, 3 Dec 2026 18:33:04 +0900'), '2026-12-03T09:33:04.000Z');
    assert.equal(iso('3 Dec 2026 09:33 +0000'), '2026-12-03T09:33:00.000Z');
    assert.equal(iso('Thu, 03 Dec 2026 04:33:04 EST'), '2026-12-03T09:33:04.000Z');
    assert.equal(iso('Thu, 03 Dec 2026 09:33:04 GMT'), '2026-12-03T09:33:04.000Z');
    assert.equal(iso('Thu, 03 Dec 2026 09:33:04 -0130 (somewhere)'), '2026-12-03T11:03:04.000Z');
    assert.equal(iso('Thu,\r\n 03 Dec 2026\t09:33:04 +0000'), '2026-12-03T09:33:04.000Z');
  });

  test('anything doubtful is no date: two-digit years, military zones, impossible values', () => {
    for (const v of [
      '',
      'yesterday',
      'Thu, 03 Dec 26 09:33:04 +0000',
      'Thu, 03 Dec 2026 09:33:04 A',
      'Thu, 03 Dec 2026 09:33:04',
      'Thu, 31 Feb 2026 09:33:04 +0000',
      'Thu, 03 Dec 2026 24:00:00 +0000',
      'Thu, 03 Dec 2026 09:33:04 +0975',
      '2026-12-03T09:33:04Z',
    ]) {
      assert.equal(parseDateHeader(v), undefined, v);
    }
  });
});

describe('signingTimeFor', () => {
  const now = new Date('2026-12-03T09:33:04Z');
  const outer = (block: string) => parseHeaderBlock(block, 'test');

  test('now when Date: is within the window, either side', () => {
    for (const date of ['Thu, 03 Dec 2026 09:03:04 +0000', 'Thu, 03 Dec 2026 19:03:04 +0900']) {
      assert.equal(signingTimeFor(outer(`From: a@b\r\nDate: ${date}`), now), now, date);
    }
  });

  test('none when Date: is further away, missing, repeated or unreadable', () => {
    const later = new Date(now.getTime() + SIGNING_TIME_WINDOW_MS + 1000);
    assert.equal(signingTimeFor(outer('Date: Thu, 03 Dec 2026 09:33:04 +0000'), later), undefined);
    assert.equal(signingTimeFor(outer('From: a@b'), now), undefined);
    const twice = 'Date: Thu, 03 Dec 2026 09:33:04 +0000\r\nDate: Thu, 03 Dec 2026 09:33:04 +0000';
    assert.equal(messageDate(outer(twice)), undefined);
    assert.equal(signingTimeFor(outer('Date: soon'), now), undefined);
  });
});
