import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fieldValueOf, readHeader, valuesOf } from './header-reader';

const read = (s: string) => readHeader(Buffer.from(s, 'latin1'));

describe('the header reader', () => {
  test('fields with folding, offsets into the bytes, and where the body starts', () => {
    const text =
      'From: News <news@example.com>\r\nSubject: a long\r\n\tsubject\r\nX-Empty:\r\n\r\nbody\r\n';
    const h = read(text);
    assert.deepEqual(
      h.fields.map((f) => f.name),
      ['from', 'subject', 'x-empty'],
    );
    const subject = h.fields[1];
    assert.equal(subject.text, 'Subject: a long\r\n\tsubject');
    assert.equal(text.slice(subject.start, subject.end), subject.text);
    assert.equal(fieldValueOf(subject), 'a long\tsubject');
    assert.equal(fieldValueOf(h.fields[2]), '');
    assert.equal(h.blankLine, true);
    assert.equal(h.crlf, true);
    assert.equal(text.slice(h.headerEnd, h.bodyStart), '\r\n');
    assert.equal(text.slice(h.bodyStart), 'body\r\n');
    assert.deepEqual(h.problems, []);
  });

  test('bare LF line breaks read the same, and say so', () => {
    const h = read('From: a@example.com\nTo: b@example.net,\n c@example.net\n\nhi\n');
    assert.equal(h.crlf, false);
    assert.deepEqual(valuesOf(h, 'TO'), ['b@example.net, c@example.net']);
    assert.equal(h.bodyStart, h.headerEnd + 1);
  });

  test('lines that are not fields are listed, not dropped silently', () => {
    const h = read(' folded first\r\nFrom: a@example.com\r\nno colon here\r\nBad Name: x\r\n\r\n');
    assert.deepEqual(h.problems, [
      'line 1 is a continuation line before any field',
      'line 3 is not a header field ("Name: value")',
      'line 4 is not a header field ("Name: value")',
    ]);
    assert.deepEqual(
      h.fields.map((f) => f.name),
      ['from'],
    );
  });

  test('a message without an empty line is all header; an empty first line is no header', () => {
    const all = read('From: a@example.com\r\nSubject: x');
    assert.equal(all.blankLine, false);
    assert.equal(all.headerEnd, all.bodyStart);
    assert.equal(fieldValueOf(all.fields[1]), 'x');
    const none = read('\r\nbody only');
    assert.equal(none.blankLine, true);
    assert.equal(none.headerEnd, 0);
    assert.equal(none.fields.length, 0);
  });

  test('every occurrence of a field is kept in order; 8-bit bytes stay as latin1 text', () => {
    const h = readHeader(
      Buffer.concat([
        Buffer.from('Received: one\r\nReceived: two\r\nSubject: '),
        Buffer.from('日本', 'utf8'),
        Buffer.from('\r\n\r\n'),
      ]),
    );
    assert.deepEqual(valuesOf(h, 'received'), ['one', 'two']);
    const subject = valuesOf(h, 'subject')[0];
    assert.equal(Buffer.from(subject, 'latin1').toString('utf8'), '日本');
  });
});
