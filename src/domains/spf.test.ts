import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authorisesAddress, evaluateSpf, parseSpf, spfRecords } from './spf';
import { stubDns } from '../../test/domains/stub-dns';

describe('SPF', () => {
  test('finds the v=spf1 record among TXT records, joining its strings', () => {
    const found = spfRecords([
      ['google-site-verification=x'],
      ['v=spf1 include:', 'a.example ~all'],
    ]);
    assert.deepEqual(found, ['v=spf1 include:a.example ~all']);
    assert.deepEqual(spfRecords([['v=spf10 nonsense']]), []);
  });

  test('parses qualifiers, mechanisms and modifiers', () => {
    assert.deepEqual(
      parseSpf('v=spf1 -ip4:192.0.2.0/24 include:x.example redirect=y.example ~all'),
      [
        { qualifier: '-', name: 'ip4', value: '192.0.2.0/24' },
        { qualifier: '+', name: 'include', value: 'x.example' },
        { qualifier: '+', name: 'redirect', value: 'y.example' },
        { qualifier: '~', name: 'all', value: undefined },
      ],
    );
  });

  test('counts lookups through nested includes, and collects networks from ip4, a and mx', async () => {
    const dns = stubDns({
      txt: {
        'example.com': ['v=spf1 a mx include:esp.example ip6:2001:db8::/32 ~all'],
        'esp.example': ['v=spf1 include:inner.esp.example exists:%{i}.x.esp.example -all'],
        'inner.esp.example': ['v=spf1 ip4:198.51.100.0/24 -all'],
      },
      a: { 'example.com': ['192.0.2.10'], 'mail.example.com': ['192.0.2.20'] },
      mx: { 'example.com': ['mail.example.com'] },
    });
    const spf = await evaluateSpf('example.com', dns);
    assert.equal(spf.lookups, 5); // a, mx, include, include, exists
    assert.deepEqual(spf.includes, ['esp.example', 'inner.esp.example']);
    assert.deepEqual(spf.errors, []);
    for (const ip of ['192.0.2.10', '192.0.2.20', '198.51.100.7', '2001:db8::1']) {
      assert.equal(authorisesAddress(spf, ip), true, ip);
    }
    assert.equal(authorisesAddress(spf, '203.0.113.1'), false);
  });

  test('stops past ten lookups and reports the count over the limit', async () => {
    const includes = Array.from({ length: 12 }, (_, i) => `include:s${i}.example`).join(' ');
    const txt: Record<string, string[]> = { 'example.com': [`v=spf1 ${includes} -all`] };
    for (let i = 0; i < 12; i++) txt[`s${i}.example`] = ['v=spf1 -all'];
    const dns = stubDns({ txt });
    const spf = await evaluateSpf('example.com', dns);
    assert.equal(spf.lookups, 11);
    assert.equal(dns.asked.includes('TXT s11.example'), false);
  });

  test('reports a missing record, two records, a broken include and an include loop', async () => {
    const none = await evaluateSpf('example.com', stubDns({}));
    assert.equal(none.record, undefined);
    assert.match(none.errors[0], /no SPF record/);
    const two = await evaluateSpf(
      'example.com',
      stubDns({ txt: { 'example.com': ['v=spf1 -all', 'v=spf1 ~all'] } }),
    );
    assert.match(two.errors[0], /2 SPF records/);
    const broken = await evaluateSpf(
      'example.com',
      stubDns({ txt: { 'example.com': ['v=spf1 include:gone.example -all'] } }),
    );
    assert.match(broken.errors[0], /gone\.example has no SPF record/);
    const loop = await evaluateSpf(
      'example.com',
      stubDns({
        txt: {
          'example.com': ['v=spf1 include:b.example -all'],
          'b.example': ['v=spf1 include:example.com -all'],
        },
      }),
    );
    assert.match(loop.errors[0], /loop/);
  });

  test('notices +all', async () => {
    const spf = await evaluateSpf(
      'example.com',
      stubDns({ txt: { 'example.com': ['v=spf1 all'] } }),
    );
    assert.equal(spf.allowsAll, true);
  });
});
