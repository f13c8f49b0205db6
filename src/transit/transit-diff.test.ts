import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { transitDiff } from './transit-diff';

/** A detached-signature-shaped message: the first part is what the diff compares. */
function signed(entity: string, extraHeader = ''): Buffer {
  return Buffer.from(
    [
      'From: <news@example.com>',
      'To: <seed@example.net>',
      ...(extraHeader ? [extraHeader] : []),
      'MIME-Version: 1.0',
      'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="s"',
      '',
      '--s',
      entity,
      '--s',
      'Content-Type: application/pkcs7-signature; name=smime.p7s',
      'Content-Transfer-Encoding: base64',
      '',
      'MAA=',
      '--s--',
      '',
    ].join('\r\n'),
  );
}

const entity = (text: string, html: string): string =>
  [
    'Content-Type: multipart/alternative; boundary="a"',
    '',
    '--a',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    text,
    '--a',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    html,
    '--a--',
  ].join('\r\n');

const TEXT =
  'Hello reader, this is a line of text that is long enough to be re-wrapped by a=\r\nprovider.';
const HTML = '<p>Hello</p>';

describe('transitDiff', () => {
  test('identical: nothing changed but the trace fields', () => {
    const sent = signed(entity(TEXT, HTML));
    const got = Buffer.concat([Buffer.from('Received: from x by y\r\n'), sent]);
    const d = transitDiff(sent, got);
    assert.deepEqual(d.headers, { added: ['received'], removed: [], changed: [], unexpected: [] });
    assert.ok(!('unreadable' in d.signedPart) && d.signedPart.identical);
  });

  test('a footer inserted into the text part', () => {
    const d = transitDiff(
      signed(entity(TEXT, HTML)),
      signed(entity(`${TEXT}\r\n-- \r\nSent by ESP`, HTML), 'X-ESP-Id: 42'),
    );
    assert.deepEqual(d.headers.unexpected, ['x-esp-id']);
    assert.ok(!('unreadable' in d.signedPart));
    assert.match(d.signedPart.explanation!, /2 line\(s\) were inserted at line 9/);
    assert.deepEqual(
      d.signedPart.parts.map((p) => `${p.part} ${p.contentType} ${p.change}`),
      ['1 text/plain changed', '2 text/html unchanged'],
    );
    assert.equal(d.signedPart.firstDifference?.line, 9);
  });

  test('quoted-printable lines re-wrapped', () => {
    const rewrapped = TEXT.replace('that is long', 'that is=\r\n long');
    const d = transitDiff(signed(entity(TEXT, HTML)), signed(entity(rewrapped, HTML)));
    assert.ok(!('unreadable' in d.signedPart));
    assert.match(d.signedPart.explanation!, /re-wrapped/);
  });

  test('other changes, and an unreadable copy', () => {
    const d = transitDiff(signed(entity(TEXT, HTML)), signed(entity(TEXT, '<p>Hallo</p>')));
    assert.ok(!('unreadable' in d.signedPart));
    assert.match(d.signedPart.explanation!, /changed in transit/);
    const broken = transitDiff(
      signed(entity(TEXT, HTML)),
      Buffer.from('From: a@b\r\n\r\nplain\r\n'),
    );
    assert.ok('unreadable' in broken.signedPart);
  });
});
