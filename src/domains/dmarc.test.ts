import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aligns, findDmarc, organisationalDomain } from './dmarc';
import { stubDns } from '../../test/domains/stub-dns';

describe('DMARC', () => {
  test('reads policy and alignment modes from _dmarc.<domain>', async () => {
    const dns = stubDns({
      txt: { '_dmarc.example.com': ['v=DMARC1; p=reject; adkim=s; rua=mailto:d@example.com'] },
    });
    const { record } = await findDmarc('example.com', dns);
    assert.equal(record?.policy, 'reject');
    assert.equal(record?.dkimAlignment, 's');
    assert.equal(record?.spfAlignment, 'r');
    assert.equal(record?.foundAt, '_dmarc.example.com');
  });

  test('falls back to the organisational domain, applying its sp=', async () => {
    const dns = stubDns({
      txt: { '_dmarc.example.com': ['v=DMARC1; p=reject; sp=quarantine'] },
    });
    const { record } = await findDmarc('news.example.com', dns);
    assert.equal(record?.foundAt, '_dmarc.example.com');
    assert.equal(record?.policy, 'quarantine');
  });

  test('no record, two records and a record without a policy', async () => {
    assert.deepEqual(await findDmarc('example.com', stubDns({})), {});
    const two = stubDns({
      txt: { '_dmarc.example.com': ['v=DMARC1; p=none', 'v=DMARC1; p=reject'] },
    });
    assert.match((await findDmarc('example.com', two)).error!, /2 DMARC records/);
    const bad = stubDns({ txt: { '_dmarc.example.com': ['v=DMARC1; rua=mailto:x@example.com'] } });
    assert.match((await findDmarc('example.com', bad)).error!, /no valid p= tag/);
  });

  test('relaxed alignment accepts subdomains; strict needs the same name', () => {
    assert.equal(organisationalDomain('a.b.Example.com'), 'example.com');
    assert.equal(aligns('news.example.com', 'bounce.example.com', 'r'), true);
    assert.equal(aligns('news.example.com', 'bounce.example.com', 's'), false);
    assert.equal(aligns('example.com', 'esp.example', 'r'), false);
  });
});
