import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import {
  dkimSign,
  domainsAlign,
  relaxedBody,
  relaxedBodyHash,
  relaxedHeader,
  type DkimAlgorithm,
} from '../../src/dkim/dkim-signer';
import { literalRelaxedBody } from '../helpers/dkim-reference';

function keyOf(algorithm: DkimAlgorithm): { privateKey: KeyObject; record: string } {
  const { privateKey } =
    algorithm === 'rsa-sha256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ed25519');
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const p = algorithm === 'rsa-sha256' ? spki : spki.subarray(-32);
  const k = algorithm === 'rsa-sha256' ? 'rsa' : 'ed25519';
  return { privateKey, record: `v=DKIM1; k=${k}; p=${p.toString('base64')}` };
}

async function verdict(raw: Buffer, record: string): Promise<string[]> {
  const resolver = async (name: string) => {
    if (name === 'unit._domainkey.example.com') return [[record]];
    throw Object.assign(new Error('no record'), { code: 'ENOTFOUND' });
  };
  const r = await dkimVerify(raw, { resolver });
  return r.results.map((x) => x.status.result);
}

const MESSAGE =
  'Received: from somewhere\r\n' +
  'From: "News"   <news@example.com>\r\n' +
  'To: reader@example.net\r\n' +
  'Subject:   A   folded\r\n\tsubject line\t \r\n' +
  'Date: Tue, 21 Sep 2024 09:30:00 +0200\r\n' +
  'MIME-Version: 1.0\r\n' +
  'Content-Type: text/plain; charset=utf-8\r\n' +
  '\r\n' +
  'Hello  \t world \r\n\r\nBye\r\n\r\n\r\n';

describe('DKIM signer', () => {
  test('relaxed canonicalisation follows the RFC 6376 §3.4.5 example', () => {
    assert.equal(relaxedHeader('A: X'), 'a:X');
    assert.equal(relaxedHeader('B : Y\t\r\n\tZ  '), 'b:Y Z');
    assert.equal(relaxedBody(Buffer.from(' C \r\nD \t E\r\n\r\n\r\n')).toString(), ' C\r\nD E\r\n');
    assert.equal(relaxedBody(Buffer.from('\r\n\r\n')).length, 0);
  });

  test('the one-pass body canonicalisation equals the RFC text read literally, across chunks', () => {
    const pieces = [' ', '\t', '\r', '\n', '\r\n', 'a', '=', '\u00e9', '\r\n\r\n', ' \r\n'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % pieces.length;
    const bodies: Buffer[] = [];
    for (let t = 0; t < 3000; t++) {
      bodies.push(
        Buffer.from(
          Array.from({ length: t % 40 }, next)
            .map((i) => pieces[i])
            .join(''),
          'latin1',
        ),
      );
    }
    // Past the 16 KB output chunk: held-back empty lines, spaces and text at every offset.
    for (const unit of ['x \r\n\r\n\r\n', 'ab\t\t', 'y\n\n \n', '\u00e9'.repeat(3) + ' \r\n']) {
      bodies.push(Buffer.from(unit.repeat(40_000 / unit.length), 'latin1'));
    }
    for (const body of bodies) {
      const want = literalRelaxedBody(body);
      assert.deepEqual(
        relaxedBody(body),
        want,
        JSON.stringify(body.toString('latin1').slice(0, 60)),
      );
      assert.equal(relaxedBodyHash(body), createHash('sha256').update(want).digest('base64'));
    }
  });

  for (const algorithm of ['rsa-sha256', 'ed25519-sha256'] as const) {
    test(`${algorithm}: mailauth verifies the signature, with CRLF and with LF line breaks`, async () => {
      const { privateKey, record } = keyOf(algorithm);
      const key = { domain: 'example.com', selector: 'unit', algorithm, privateKey };
      const crlf = await dkimSign(Buffer.from(MESSAGE), key);
      assert.deepEqual(await verdict(crlf, record), ['pass']);
      const lf = await dkimSign(Buffer.from(MESSAGE.replace(/\r\n/g, '\n')), key);
      assert.equal(lf.includes('\r'), false, 'the signature field kept the LF style');
      assert.deepEqual(await verdict(lf, record), ['pass']);
      const other = keyOf(algorithm).record;
      assert.deepEqual(await verdict(crlf, other), ['fail']);
    });
  }

  test('h= lists the covered fields present, in order; lines stay within 78 columns', async () => {
    const { privateKey } = keyOf('rsa-sha256');
    const raw = (
      await dkimSign(Buffer.from(MESSAGE), {
        domain: 'example.com',
        selector: 'unit',
        algorithm: 'rsa-sha256',
        privateKey,
      })
    ).toString('latin1');
    const field = raw.slice(0, raw.indexOf('\r\nReceived:'));
    for (const line of field.split('\r\n')) assert.ok(line.length <= 78, line);
    const h = /h=([^;]+);/.exec(field.replace(/\r\n\s/g, ''))?.[1];
    assert.equal(h, 'from:to:subject:date:mime-version:content-type');
    assert.match(field, /c=relaxed\/relaxed;/);
    assert.match(field, /t=\d+;/);
  });

  test('domains align when equal or one is a subdomain of the other', () => {
    assert.equal(domainsAlign('example.com', 'example.com'), true);
    assert.equal(domainsAlign('news.example.com', 'example.com'), true);
    assert.equal(domainsAlign('example.com', 'mail.example.com'), true);
    assert.equal(domainsAlign('example.org', 'example.com'), false);
    assert.equal(domainsAlign('badexample.com', 'example.com'), false);
  });
});
