import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkReadiness, type TenantFacts } from './readiness';
import { hasOneClickUnsubscribe } from './one-click';
import { stubDns, type StubZone } from '../../test/domains/stub-dns';

const NOW = new Date('2026-06-01T00:00:00Z');
const inDays = (n: number) => new Date(NOW.getTime() + n * 86_400_000);
const ONE_CLICK =
  'From: news@example.com\r\nList-Unsubscribe: <https://example.com/u/1>,\r\n <mailto:u@example.com>\r\n' +
  'List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nbody';
const PLAIN =
  'From: news@example.com\r\nSubject: hi\r\n\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click';

const readyZone: StubZone = {
  txt: {
    'example.com': ['v=spf1 include:amazonses.com ~all'],
    'amazonses.com': ['v=spf1 ip4:199.255.192.0/22 -all'],
    's1._domainkey.example.com': [['v=DKIM1; k=rsa; p=MIIBIjAN', 'BgkqhkiG9w0BAQEFAAOC']],
    '_dmarc.example.com': ['v=DMARC1; p=quarantine'],
  },
};

function facts(over: Partial<TenantFacts> = {}): TenantFacts {
  return {
    transport: { name: 'ses' },
    dkimKey: {
      domain: 'example.com',
      selector: 's1',
      algorithm: 'rsa-sha256',
      publicKey: 'MIIBIjANBgkqhkiG9w0BAQEFAAOC',
    },
    certificates: [{ emailAddresses: ['News@example.com'], notAfter: inDays(200) }],
    senders: ['news@example.com'],
    envelopeDomains: ['amazonses.com'],
    recentHeaders: [ONE_CLICK],
    transitCheck: {
      id: 'c-1',
      state: 'passed',
      from: 'news@example.com',
      to: 'seed@example.net',
      startedAt: new Date(NOW.getTime() - 3600_000),
      problems: [],
    },
    ...over,
  };
}

const byCheck = async (zone: StubZone, f?: TenantFacts) => {
  const report = await checkReadiness('example.com', stubDns(zone), f, NOW);
  return { report, item: Object.fromEntries(report.items.map((i) => [i.check, i])) };
};

describe('readiness report', () => {
  test('a ready domain passes every check', async () => {
    const { report } = await byCheck(readyZone, facts());
    assert.deepEqual(
      report.items.map((i) => [i.check, i.status]),
      [
        ['spf', 'pass'],
        ['dkim', 'pass'],
        ['dmarc', 'pass'],
        ['smime', 'pass'],
        ['unsubscribe', 'pass'],
        ['transit', 'pass'],
      ],
    );
    assert.equal(report.overall, 'pass');
    assert.equal(report.checkedAt, NOW.toISOString());
    assert.ok(report.items.every((i) => i.fix === undefined));
  });

  test('transit: none yet or too old warns, a failed check fails with its first problem', async () => {
    const none = await byCheck(readyZone, facts({ transitCheck: undefined }));
    assert.equal(none.item.transit.status, 'warn');
    assert.match(none.item.transit.fix!, /transit-check/);
    const base = facts().transitCheck!;
    const old = await byCheck(
      readyZone,
      facts({ transitCheck: { ...base, startedAt: new Date(NOW.getTime() - 9 * 86_400_000) } }),
    );
    assert.equal(old.item.transit.status, 'warn');
    assert.match(old.item.transit.summary, /9 days ago/);
    const failed = await byCheck(
      readyZone,
      facts({
        transitCheck: {
          ...base,
          state: 'failed',
          problems: ['the signed part changed in transit'],
        },
      }),
    );
    assert.equal(failed.item.transit.status, 'fail');
    assert.match(failed.item.transit.summary, /failed: the signed part changed in transit/);
    assert.match(failed.item.transit.fix!, /transit-checks\/c-1/);
    assert.equal(failed.report.overall, 'fail');
  });

  test('without tenant facts only SPF and DMARC run', async () => {
    const { report } = await byCheck(readyZone);
    assert.deepEqual(
      report.items.map((i) => i.check),
      ['spf', 'dmarc'],
    );
  });

  test("SPF without the transport's include warns and names the include", async () => {
    const { item, report } = await byCheck(readyZone, facts({ transport: { name: 'mailgun' } }));
    assert.equal(item.spf.status, 'warn');
    assert.match(item.spf.fix!, /include:mailgun\.org/);
    assert.equal(report.overall, 'warn');
  });

  test('SPF for an smtp upstream checks its addresses, or warns when it cannot tell', async () => {
    const zone: StubZone = {
      ...readyZone,
      txt: { ...readyZone.txt, 'example.com': ['v=spf1 ip4:192.0.2.0/24 -all'] },
      a: { 'smtp.example.net': ['192.0.2.25'], 'other.example.net': ['203.0.113.9'] },
    };
    const covered = await byCheck(
      zone,
      facts({ transport: { name: 'smtp', host: 'smtp.example.net' } }),
    );
    assert.equal(covered.item.spf.status, 'pass');
    const notCovered = await byCheck(
      zone,
      facts({ transport: { name: 'smtp', host: 'other.example.net' } }),
    );
    assert.equal(notCovered.item.spf.status, 'warn');
    assert.match(notCovered.item.spf.summary, /203\.0\.113\.9/);
    const unknown = await byCheck(
      zone,
      facts({ transport: { name: 'smtp', host: 'nowhere.example.net' } }),
    );
    assert.match(unknown.item.spf.summary, /cannot tell/);
  });

  test('DKIM fails when the selector is missing or holds another key', async () => {
    const missing = await byCheck(
      { txt: { ...readyZone.txt, 's1._domainkey.example.com': [] } },
      facts(),
    );
    assert.equal(missing.item.dkim.status, 'fail');
    assert.match(
      missing.item.dkim.fix!,
      /s1\._domainkey\.example\.com.*p=MIIBIjANBgkqhkiG9w0BAQEFAAOC/,
    );
    const other = await byCheck(
      { txt: { ...readyZone.txt, 's1._domainkey.example.com': ['v=DKIM1; k=rsa; p=OTHERKEY'] } },
      facts(),
    );
    assert.equal(other.item.dkim.status, 'fail');
    assert.match(other.item.dkim.summary, /not the relay's key/);
  });

  test('DMARC: missing fails, p=none warns, nothing aligned fails', async () => {
    const none = await byCheck({ txt: { ...readyZone.txt, '_dmarc.example.com': [] } }, facts());
    assert.equal(none.item.dmarc.status, 'fail');
    const monitor = await byCheck(
      { txt: { ...readyZone.txt, '_dmarc.example.com': ['v=DMARC1; p=none'] } },
      facts(),
    );
    assert.equal(monitor.item.dmarc.status, 'warn');
    assert.match(monitor.item.dmarc.summary, /policy none/);
    const unaligned = await byCheck(readyZone, facts({ dkimKey: undefined }));
    assert.equal(unaligned.item.dmarc.status, 'fail');
    assert.match(unaligned.item.dmarc.summary, /DKIM not aligned; SPF not aligned/);
    const spfOnly = await byCheck(
      readyZone,
      facts({ dkimKey: undefined, envelopeDomains: ['bounce.example.com'] }),
    );
    assert.equal(spfOnly.item.dmarc.status, 'pass');
  });

  test('S/MIME: an uncovered sender fails, an expiring certificate warns with the days left', async () => {
    const uncovered = await byCheck(
      readyZone,
      facts({ senders: ['news@example.com', 'info@example.com'] }),
    );
    assert.equal(uncovered.item.smime.status, 'fail');
    assert.match(uncovered.item.smime.summary, /info@example\.com/);
    const expired = await byCheck(
      readyZone,
      facts({ certificates: [{ emailAddresses: ['news@example.com'], notAfter: inDays(-1) }] }),
    );
    assert.equal(expired.item.smime.status, 'fail');
    const soon = await byCheck(
      readyZone,
      facts({ certificates: [{ emailAddresses: ['news@example.com'], notAfter: inDays(12) }] }),
    );
    assert.equal(soon.item.smime.status, 'warn');
    assert.match(soon.item.smime.summary, /12 day\(s\) left/);
  });

  test('unsubscribe: all, some and none of the recent messages', async () => {
    assert.equal(hasOneClickUnsubscribe(ONE_CLICK), true);
    assert.equal(hasOneClickUnsubscribe(PLAIN), false);
    const some = await byCheck(readyZone, facts({ recentHeaders: [ONE_CLICK, PLAIN] }));
    assert.equal(some.item.unsubscribe.status, 'warn');
    assert.match(some.item.unsubscribe.summary, /1 of 2/);
    const none = await byCheck(readyZone, facts({ recentHeaders: [PLAIN] }));
    assert.equal(none.item.unsubscribe.status, 'fail');
    const nothing = await byCheck(readyZone, facts({ recentHeaders: [] }));
    assert.equal(nothing.item.unsubscribe.status, 'warn');
  });
});

describe('readiness report when DNS fails', () => {
  test('a lookup error fails that check with the error, and the other checks still run', async () => {
    const working = stubDns(readyZone);
    const broken = {
      ...working,
      txt: async (name: string) => {
        if (name.startsWith('_dmarc.'))
          throw Object.assign(new Error('queryTxt ESERVFAIL'), { code: 'ESERVFAIL' });
        return working.txt(name);
      },
    };
    const report = await checkReadiness('example.com', broken, facts(), NOW);
    const dmarc = report.items.find((i) => i.check === 'dmarc')!;
    assert.equal(dmarc.status, 'fail');
    assert.match(dmarc.summary, /DNS lookup failed: queryTxt ESERVFAIL/);
    assert.equal(report.items.find((i) => i.check === 'spf')!.status, 'pass');
    assert.equal(report.overall, 'fail');
  });
});

describe('readiness report: provider includes', () => {
  test('an include reached through another include counts, and SparkPost accepts _spf.sparkpostmail.com', async () => {
    const zone: StubZone = {
      txt: {
        'example.com': ['v=spf1 include:_spf.example.com ~all'],
        '_spf.example.com': ['v=spf1 include:_spf.sparkpostmail.com include:sendgrid.net -all'],
        '_spf.sparkpostmail.com': ['v=spf1 ip4:192.0.2.0/24 -all'],
        'sendgrid.net': ['v=spf1 ip4:198.51.100.0/24 -all'],
      },
    };
    for (const name of ['sparkpost', 'sendgrid']) {
      const { item } = await byCheck(zone, facts({ transport: { name } }));
      assert.equal(item.spf.status, 'pass', `${name}: ${item.spf.summary}`);
    }
    const { item } = await byCheck(zone, facts({ transport: { name: 'postmark' } }));
    assert.match(item.spf.fix!, /include:spf\.mtasv\.net/);
  });
});
