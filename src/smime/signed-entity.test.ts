import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RelayError } from '../plugin/relay-error';
import { needsEncoding, prepareMessage } from './signed-entity';

const prep = (raw: Buffer) => {
  const p = prepareMessage(raw);
  return { outer: p.outer, entity: p.entity.toString('latin1') };
};
const msg = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'utf8');
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return e instanceof RelayError ? e.code : 'other';
  }
  return 'none';
};

describe('prepareMessage', () => {
  it('moves Content-* inside and keeps every other field outside, in order and text', () => {
    const p = prep(
      msg(
        'From: a@example.com\nSubject: a long\n folded subject\nContent-Type: text/plain; charset=us-ascii\nX-Campaign: 7\nMIME-Version: 1.0\n\nhello\n',
      ),
    );
    assert.deepEqual(
      p.outer.map((h) => h.raw),
      [
        'From: a@example.com',
        'Subject: a long\r\n folded subject',
        'X-Campaign: 7',
        'MIME-Version: 1.0',
      ],
    );
    assert.equal(p.entity, 'Content-Type: text/plain; charset=us-ascii\r\n\r\nhello\r\n');
  });

  it('keeps the bytes of parts that are already safe', () => {
    const body =
      '--b\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nGr=C3=BC=C3=9Fe\n--b\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b--\n';
    const p = prep(
      msg('From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n' + body),
    );
    assert.equal(
      p.entity,
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n' + body.replace(/\n/g, '\r\n'),
    );
  });

  it('re-encodes mostly-ASCII 8bit text as quoted-printable and long base64 lines at 76', () => {
    const longB64 = Buffer.alloc(3000, 7).toString('base64');
    const p = prep(
      msg(
        `From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nViele Grüße, bis zum nächsten Newsletter am Montag!\n--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n${longB64}\n--b--\n`,
      ),
    );
    assert.match(
      p.entity,
      /Content-Transfer-Encoding: quoted-printable\r\n\r\nViele Gr=C3=BC=C3=9Fe, bis zum n=C3=A4chsten Newsletter am Montag!\r\n/,
    );
    assert.ok(!needsEncoding(p.entity), 'the entity is transit-safe');
    assert.match(p.entity, /\r\n(?:[A-Za-z0-9+/]{76}\r\n){10}/);
  });

  it('gives a message without MIME headers an explicit text/plain charset', () => {
    assert.match(prep(msg('From: a@example.com\n\nplain ascii\n')).entity, /charset=us-ascii/);
    const utf8 = prep(msg('From: a@example.com\n\nこんにちは\n')).entity;
    // Mostly 8-bit text is smaller as base64 than as quoted-printable.
    assert.match(
      utf8,
      /charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n44GT44KT44Gr44Gh44GvDQo=\r\n/,
    );
  });

  it('makes 8-bit file names in part headers 7-bit with RFC 2231', () => {
    const p = prep(
      msg(
        'From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="Prüfbericht.pdf"\nContent-Transfer-Encoding: base64\n\nAAAA\n--b--\n',
      ),
    );
    assert.match(p.entity, /filename\*=utf-8''Pr%C3%BCfbericht\.pdf/);
    assert.ok(!/[\x80-\xff]/.test(p.entity));
  });

  it('makes every header line inside the entity safe: long, 8-bit, trailing blanks', () => {
    const p = prep(
      msg(
        `From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; x-long="${'word '.repeat(300)}end"\nX-Note: café \nContent-Transfer-Encoding: 8bit\n\nGrüße\n--b--\n`,
      ),
    );
    const headerLines = p.entity.split('\r\n').filter((l) => /^(X-Note|Content-Type|\s)/.test(l));
    assert.ok(
      p.entity.split('\r\n').every((l) => l.length <= 998),
      'no line over 998 octets',
    );
    assert.ok(!/[\x80-\xff]/.test(p.entity), 'the entity is 7-bit');
    assert.ok(
      headerLines.every((l) => !/[ \t]$/.test(l)),
      'no header line ends in a blank',
    );
    assert.match(p.entity, /X-Note: =\?utf-8\?B\?Y2Fmw6k=\?=/);
  });

  it('refuses a part header line over 998 octets that has no blank to fold at', () => {
    const raw = msg(
      `From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; x-long="${'a'.repeat(1200)}"\n\nhi\n--b--\n`,
    );
    assert.equal(
      code(() => prepareMessage(raw)),
      'malformed_message',
    );
  });

  it('refuses a binary part in a message whose line endings need repair', () => {
    const raw = Buffer.concat([
      Buffer.from(
        'From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\n',
      ),
      Buffer.from([0, 10, 13, 65, 13, 10, 255]),
      Buffer.from('\n--b--\n'),
    ]);
    assert.equal(
      code(() => prepareMessage(raw)),
      'malformed_message',
    );
  });

  it('never base64-encodes a multipart it cannot split', () => {
    const noBoundary = msg('From: a@x\nContent-Type: multipart/mixed\n\nplain text\n');
    assert.match(prep(noBoundary).entity, /^Content-Type: multipart\/mixed\r\n\r\nplain text/);
    const eightBit = msg('From: a@x\nContent-Type: multipart/mixed\n\nGrüße\n');
    assert.equal(
      code(() => prepareMessage(eightBit)),
      'malformed_message',
    );
  });

  it('refuses what is not a message', () => {
    assert.equal(
      code(() => prepareMessage(Buffer.alloc(0))),
      'malformed_message',
    );
    assert.equal(
      code(() => prepareMessage(Buffer.from('no separator here'))),
      'malformed_message',
    );
    assert.equal(
      code(() => prepareMessage(Buffer.from([0xff, 0xfe, 0, 1, 10, 10, 65]))),
      'malformed_message',
    );
    assert.equal(
      code(() => prepareMessage(Buffer.from('From: a@x\r\n\r\nCaf\xe9\r\n', 'latin1'))),
      'malformed_message',
    );
    assert.equal(
      code(() =>
        prepareMessage(msg('From: a@x\nContent-Transfer-Encoding: x-uuencode\n\nbody\xff\n')),
      ),
      'malformed_message',
    );
  });
});
