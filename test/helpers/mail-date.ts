/**
 * RFC 5322 dates for test messages, and a message with its Date: replaced: the reader's
 * client compares Date: with the signature's signingTime, so tests that look at signingTime
 * must control both.
 */
import assert from 'node:assert/strict';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An RFC 5322 date-time in the given zone (minutes east of UTC; default +0900). */
export function rfc5322Date(at: Date, zoneMinutes = 540): string {
  const local = new Date(at.getTime() + zoneMinutes * 60_000);
  const two = (n: number): string => String(n).padStart(2, '0');
  const z = Math.abs(zoneMinutes);
  return (
    `${DAYS[local.getUTCDay()]}, ${local.getUTCDate()} ${MONTHS[local.getUTCMonth()]} ` +
    `${local.getUTCFullYear()} ${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:` +
    `${two(local.getUTCSeconds())} ${zoneMinutes < 0 ? '-' : '+'}${two(Math.floor(z / 60))}${two(z % 60)}`
  );
}

/** `raw` with its one Date: field set to `date`, or removed when `date` is null. */
export function withDate(raw: Buffer, date: Date | null): Buffer {
  const text = raw.toString('latin1');
  const m = /^Date:[^\r\n]*\r?\n/im.exec(text);
  assert.ok(m, 'the message has a Date: field');
  const eol = m[0].endsWith('\r\n') ? '\r\n' : '\n';
  const field = date ? `Date: ${rfc5322Date(date)}${eol}` : '';
  return Buffer.from(text.slice(0, m.index) + field + text.slice(m.index + m[0].length), 'latin1');
}
