import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeEncodedWords as decode } from './encoded-words';

// "日本語のお知らせ" in each charset (made with Node's decoders as the check: see below).
const NEWS = '日本語のお知らせ';
const B = {
  'UTF-8': '5pel5pys6Kqe44Gu44GK55+l44KJ44Gb',
  'ISO-2022-JP': 'GyRCRnxLXDhsJE4kKkNOJGkkOxsoQg==',
  Shift_JIS: 'k/qWe4zqgsyCqJJtgueCuQ==',
  'EUC-JP': 'xvzL3LjspM6kqsPOpOmkuw==',
};
const Q = {
  'UTF-8': '=E6=97=A5=E6=9C=AC=E8=AA=9E=E3=81=AE=E3=81=8A=E7=9F=A5=E3=82=89=E3=81=9B',
  'ISO-2022-JP': '=1B$BF|K\\8l$N$*CN$i$;=1B(B',
  Shift_JIS: '=93=FA=96{=8C=EA=82=CC=82=A8=92m=82=E7=82=B9',
  'EUC-JP': '=C6=FC=CB=DC=B8=EC=A4=CE=A4=AA=C3=CE=A4=E9=A4=BB',
};

describe('decodeEncodedWords (RFC 2047, for display)', () => {
  for (const [charset, text] of Object.entries(B)) {
    test(`B encoding in ${charset}`, () => {
      assert.equal(decode(`=?${charset}?B?${text}?=`), NEWS);
      assert.equal(decode(`=?${charset.toLowerCase()}?b?${text}?=`), NEWS);
    });
  }
  for (const [charset, text] of Object.entries(Q)) {
    test(`Q encoding in ${charset}`, () => {
      assert.equal(decode(`=?${charset}?Q?${text}?=`), NEWS);
      assert.equal(decode(`=?${charset.toLowerCase()}?q?${text}?=`), NEWS);
    });
  }

  test('the vectors are what Node decodes them to', () => {
    const labels: Record<string, string> = {
      'UTF-8': 'utf-8',
      'ISO-2022-JP': 'iso-2022-jp',
      Shift_JIS: 'shift_jis',
      'EUC-JP': 'euc-jp',
    };
    for (const [charset, text] of Object.entries(B)) {
      assert.equal(new TextDecoder(labels[charset]).decode(Buffer.from(text, 'base64')), NEWS);
    }
  });

  test('blanks between adjacent encoded-words go; blanks next to plain text stay', () => {
    assert.equal(
      decode('=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= =?ISO-2022-JP?B?GyRCJE4kKkNOJGkkOxsoQg==?='),
      NEWS,
    );
    assert.equal(decode('=?UTF-8?B?5pel?=\t \t=?UTF-8?Q?=E6=9C=AC?='), '日本');
    assert.equal(decode('=?UTF-8?B?5pel?==?UTF-8?B?5pys?='), '日本');
    assert.equal(decode('Weekly =?UTF-8?B?5pel5pys6Kqe?= news'), 'Weekly 日本語 news');
    assert.equal(decode('[Tips] =?UTF-8?B?5pel?= =?UTF-8?B?5pys?= (1/2)'), '[Tips] 日本 (1/2)');
  });

  test('adjacent words of different charsets are each decoded and joined', () => {
    assert.equal(decode(`=?UTF-8?B?5pel?= =?Shift_JIS?B?${B.Shift_JIS}?=`), `日${NEWS}`);
  });

  test('a character split across two words of one charset is put back together', () => {
    assert.equal(decode('=?UTF-8?B?5pel5g==?= =?UTF-8?B?nKzoqp7jga7jgYrnn6XjgonjgZs=?='), NEWS);
  });

  test('Q: underscore is a space; charset names as mail writes them; a language suffix', () => {
    assert.equal(decode('=?UTF-8?Q?Hello_World=21?='), 'Hello World!');
    assert.equal(decode(`=?CP932?B?${B.Shift_JIS}?=`), NEWS);
    assert.equal(decode('=?UTF-8*ja?B?5pel?='), '日');
    assert.equal(decode('=?us-ascii?Q?plain?='), 'plain');
  });

  test('malformed words are left as they are', () => {
    for (const word of [
      '=?x-no-such-charset?B?5pel?=', // unknown charset
      '=?UTF-8?B?5p@l?=', // not base64
      '=?UTF-8?B?5pel5?=', // base64 of impossible length
      '=?UTF-8?Q?=E6=9?=', // broken =XX
      '=?UTF-8?B?/w==?=', // 0xFF is not UTF-8
      `=?ISO-2022-JP?B?${B.Shift_JIS}?=`, // 8-bit octets are not ISO-2022-JP
      '=?UTF-8?X?5pel?=', // no such encoding
      '=?UTF-8?B?5pel5pys', // cut off (the spool keeps 300 characters)
    ]) {
      assert.equal(decode(word), word);
      assert.equal(decode(`News ${word} today`), `News ${word} today`);
    }
  });

  test('next to a malformed word the blank stays; good words around it are decoded', () => {
    assert.equal(decode('=?UTF-8?B?5pel?= =?bogus?Q?x?= =?UTF-8?B?5pys?='), '日 =?bogus?Q?x?= 本');
  });

  test('text without encoded-words is unchanged; control characters become spaces', () => {
    assert.equal(decode('Sent through the console test'), 'Sent through the console test');
    assert.equal(decode('お知らせ =? not a word ?='), 'お知らせ =? not a word ?=');
    assert.equal(decode(''), '');
    assert.equal(decode('=?UTF-8?Q?a=0D=0Ab=00c?='), 'a  b c');
  });
});
