import assert from 'node:assert/strict';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { describe, it } from 'node:test';
import { blockedRange, checkUrl, EgressRefused, guardedLookup, type Lookup } from './egress-guard';

/** A stand-in for DNS: fixed answers per name, ENOTFOUND for anything else; records each query. */
function stubLookup(answers: Record<string, string[]>): Lookup & { queried: string[] } {
  const queried: string[] = [];
  const lookup = async (hostname: string) => {
    queried.push(hostname);
    const addresses = answers[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({
      address,
      family: address.includes(':') ? (6 as const) : (4 as const),
    }));
  };
  return Object.assign(lookup, { queried });
}

const dns = stubLookup({
  'evil.example': ['127.0.0.1'],
  'good.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'mixed.example': ['93.184.216.34', '10.1.2.3'],
  'rebind.example': ['169.254.169.254'],
  'v6only.example': ['2606:2800:220:1::'],
});

/** Calls a Node-style lookup function and gives back what it passed to its callback. */
function callLookup(
  lookup: ReturnType<typeof guardedLookup>,
  hostname: string,
  options: LookupOptions,
): Promise<{
  err: NodeJS.ErrnoException | null;
  address: string | LookupAddress[];
  family?: number;
}> {
  return new Promise((resolve) =>
    lookup(hostname, options, (err, address, family) => resolve({ err, address, family })),
  );
}

async function refusal(promise: Promise<unknown>): Promise<EgressRefused> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof EgressRefused, `expected EgressRefused, got ${String(e)}`);
    assert.equal(e.name, 'EgressRefused');
    return e;
  }
  assert.fail('expected the URL to be refused');
}

/** range name | addresses in it (IPv4, IPv6, IPv4-mapped and NAT64 forms). */
const BLOCKED = `
  unspecified       | 0.0.0.0 0.255.1.2 ::
  private           | 10.0.0.1 10.255.255.255 172.16.0.1 172.31.255.254 192.168.1.1
  private           | ::ffff:10.0.0.1 0:0:0:0:0:ffff:c0a8:0101 64:ff9b::c0a8:1
  carrier-grade NAT | 100.64.0.1 100.127.255.255
  loopback          | 127.0.0.1 127.255.0.9 ::1 [::1] ::ffff:127.0.0.1 ::ffff:7f00:1 64:ff9b::127.0.0.1
  link-local        | 169.254.1.1 fe80::1 fe80::1%eth0 febf:ffff::1
  metadata          | 169.254.169.254 ::ffff:169.254.169.254 64:ff9b::a9fe:a9fe fd00:ec2::254
  reserved          | 192.0.0.8 240.0.0.1 255.255.255.254
  reserved          | 192.0.2.10 198.51.100.7 203.0.113.99 2001:db8::1 2001:0db8:ffff::
  reserved          | 198.18.0.1 198.19.255.255
  multicast         | 224.0.0.1 239.255.255.250 ff02::1 ff05::1:3
  broadcast         | 255.255.255.255
  unique local      | fc00::1 fd12:3456::1
  site-local        | fec0::1
  loopback          | ::7f00:1 2002:7f00:1:: 2002:7f00:0001:0:0:0:0:1
  private           | 64:ff9b:1::a00:1 2002:c0a8:0101::1
  loopback          | 2001:0:4136:e378:8000:63bf:80ff:fffe
  metadata          | 100.100.100.200 169.254.170.2 2002:a9fe:a9fe:: ::ffff:100.100.100.200
  carrier-grade NAT | 2002:6440:0001::
`;

/** Public, several of them just outside a blocked range. */
const PUBLIC = `
  93.184.216.34 8.8.8.8 1.1.1.1 172.15.255.255 172.32.0.0 100.63.255.255 100.128.0.0
  169.253.255.255 192.169.0.0 198.20.0.0 223.255.255.255 2606:2800:220:1:: 2001:4860:4860::8888
  2606:2800:220:1:248:1893:25c8:1946 2001:db9::1 fbff::1 ::ffff:93.184.216.34 64:ff9b::5db8:d822
  ::8.8.8.8 2002:5db8:d822::1
`;

const words = (text: string): string[] => text.trim().split(/\s+/);

describe('egress guard: blocked ranges', () => {
  for (const line of BLOCKED.trim().split('\n')) {
    const [range, addresses] = line.split('|').map((part) => part.trim());
    it(`${range}: ${addresses}`, () => {
      for (const address of words(addresses)) assert.equal(blockedRange(address), range, address);
    });
  }

  it('lets public IPv4 and IPv6 addresses through, including just outside blocked ranges', () => {
    for (const address of words(PUBLIC)) assert.equal(blockedRange(address), undefined, address);
  });

  it('treats something that is not an IP address as blocked', () => {
    assert.equal(blockedRange('example.com'), 'unrecognised');
    assert.equal(blockedRange(''), 'unrecognised');
  });
});

describe('egress guard: checkUrl', () => {
  it('refuses loopback, private and metadata IP literals with a sentence naming the range', async () => {
    const cases: [string, RegExp][] = [
      [
        'http://127.0.0.1/',
        /^http:\/\/127\.0\.0\.1\/ resolves to 127\.0\.0\.1, a loopback address; outbound connections may only go to public addresses$/,
      ],
      [
        'http://10.0.0.1/',
        /^http:\/\/10\.0\.0\.1\/ resolves to 10\.0\.0\.1, a private address; outbound connections may only go to public addresses$/,
      ],
      ['http://169.254.169.254/', /169\.254\.169\.254, a metadata address/],
      [
        'https://[::1]:8443/hook',
        /^https:\/\/\[::1\]:8443\/hook resolves to ::1, a loopback address/,
      ],
      ['http://[::ffff:127.0.0.1]/', /a loopback address/],
      ['http://2130706433/', /127\.0\.0\.1, a loopback address/],
      ['http://0x7f.0.0.1/', /127\.0\.0\.1, a loopback address/],
      ['http://0.0.0.0:8080/', /0\.0\.0\.0, an unspecified address/],
    ];
    for (const [url, message] of cases) {
      const e = await refusal(checkUrl(url, { allowPrivate: false, lookup: dns }));
      assert.match(e.message, message, url);
    }
  });

  it('refuses other schemes, unparsable URLs and URLs with credentials', async () => {
    const ftp = await refusal(checkUrl('ftp://example.com/', { allowPrivate: false, lookup: dns }));
    assert.match(ftp.message, /^ftp:\/\/example\.com\/ uses ftp; only http and https are allowed$/);
    await refusal(checkUrl('file:///etc/passwd', { allowPrivate: true, lookup: dns }));
    await refusal(checkUrl('not a url', { allowPrivate: true, lookup: dns }));
    await refusal(checkUrl('/relative/path', { allowPrivate: true, lookup: dns }));
    const credentials = await refusal(
      checkUrl('http://user:pw@example.com/', { allowPrivate: true, lookup: dns }),
    );
    assert.match(credentials.message, /user name or password/);
    assert.doesNotMatch(credentials.message, /user:|pw@/);
    assert.match(credentials.message, /^http:\/\/example\.com\/ contains/);
  });

  it('never repeats credentials or the query string in a message', async () => {
    const e = await refusal(
      checkUrl('http://alice:s3cret@10.0.0.1/hook?token=t0ken#frag', {
        allowPrivate: true,
        lookup: dns,
      }),
    );
    const f = await refusal(
      checkUrl('http://10.0.0.1/hook?token=t0ken', { allowPrivate: false, lookup: dns }),
    );
    for (const message of [e.message, f.message]) {
      assert.doesNotMatch(message, /alice|s3cret|t0ken|frag/);
      assert.match(message, /http:\/\/10\.0\.0\.1\/hook/);
    }
  });

  it('refuses a host name that resolves to loopback, or to any blocked address among public ones', async () => {
    const evil = await refusal(
      checkUrl('https://evil.example/hook', { allowPrivate: false, lookup: dns }),
    );
    assert.match(
      evil.message,
      /^https:\/\/evil\.example\/hook resolves to 127\.0\.0\.1, a loopback address/,
    );
    const mixed = await refusal(
      checkUrl('https://mixed.example/', { allowPrivate: false, lookup: dns }),
    );
    assert.match(mixed.message, /10\.1\.2\.3, a private address/);
  });

  it('refuses a host that does not resolve, even when private addresses are allowed', async () => {
    const e = await refusal(checkUrl('https://nx.example/', { allowPrivate: true, lookup: dns }));
    assert.match(
      e.message,
      /^https:\/\/nx\.example\/ cannot be reached: nx\.example does not resolve \(ENOTFOUND\)$/,
    );
  });

  it('passes a host name that resolves only to public addresses and returns the parsed URL', async () => {
    const url = await checkUrl('https://good.example:8443/hooks/relay?x=1', {
      allowPrivate: false,
      lookup: dns,
    });
    assert.ok(url instanceof URL);
    assert.equal(url.hostname, 'good.example');
    assert.equal(url.port, '8443');
    assert.equal(url.search, '?x=1');
    assert.ok(dns.queried.includes('good.example'));
    assert.equal(
      (await checkUrl('http://93.184.216.34/', { allowPrivate: false, lookup: dns })).host,
      '93.184.216.34',
    );
  });

  it('does not look up IP literals', async () => {
    const lookup = stubLookup({});
    await checkUrl('http://[2606:2800:220:1::]/', { allowPrivate: false, lookup });
    await refusal(checkUrl('http://[::1]/', { allowPrivate: false, lookup }));
    assert.deepEqual(lookup.queried, []);
  });

  it('lets loopback and private addresses through when allowPrivate is true', async () => {
    for (const url of [
      'http://127.0.0.1:3000/',
      'http://10.0.0.1/',
      'http://[::1]/',
      'http://evil.example/',
    ]) {
      const parsed = await checkUrl(url, { allowPrivate: true, lookup: dns });
      assert.equal(parsed.href, url);
    }
  });
});

describe('egress guard: what allowPrivate never opens', () => {
  it('refuses cloud metadata and link-local addresses even when allowPrivate is true', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.10.20/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/',
    ]) {
      await refusal(checkUrl(url, { allowPrivate: true, lookup: dns }));
    }
  });
});

describe('egress guard: guardedLookup', () => {
  it('refuses a blocked answer at connect time with an EgressRefused error', async () => {
    const { err } = await callLookup(
      guardedLookup({ allowPrivate: false, lookup: dns }),
      'rebind.example',
      {},
    );
    assert.ok(err instanceof EgressRefused, `got ${String(err)}`);
    assert.match(
      err.message,
      /^rebind\.example resolves to 169\.254\.169\.254, a metadata address/,
    );
    const all = await callLookup(
      guardedLookup({ allowPrivate: false, lookup: dns }),
      'mixed.example',
      { all: true },
    );
    assert.ok(all.err instanceof EgressRefused);
  });

  it('returns every address with all: true', async () => {
    const { err, address } = await callLookup(
      guardedLookup({ allowPrivate: false, lookup: dns }),
      'good.example',
      {
        all: true,
      },
    );
    assert.equal(err, null);
    assert.deepEqual(address, [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
    ]);
  });

  it('returns the first address of the wanted family with all: false', async () => {
    const lookup = guardedLookup({ allowPrivate: false, lookup: dns });
    assert.deepEqual(await callLookup(lookup, 'good.example', {}), {
      err: null,
      address: '93.184.216.34',
      family: 4,
    });
    assert.deepEqual(await callLookup(lookup, 'good.example', { family: 6 }), {
      err: null,
      address: '2606:2800:220:1:248:1893:25c8:1946',
      family: 6,
    });
    const none = await callLookup(lookup, 'v6only.example', { family: 4 });
    assert.equal(none.err?.code, 'ENOTFOUND');
    assert.ok(!(none.err instanceof EgressRefused));
  });

  it('passes DNS failures on as they are, not as refusals', async () => {
    const { err } = await callLookup(
      guardedLookup({ allowPrivate: false, lookup: dns }),
      'nx.example',
      {},
    );
    assert.equal(err?.code, 'ENOTFOUND');
    assert.ok(!(err instanceof EgressRefused));
  });

  it('lets private answers through when allowPrivate is true', async () => {
    const lookup = guardedLookup({ allowPrivate: true, lookup: dns });
    assert.deepEqual(await callLookup(lookup, 'evil.example', {}), {
      err: null,
      address: '127.0.0.1',
      family: 4,
    });
    assert.deepEqual((await callLookup(lookup, 'mixed.example', { all: true })).address, [
      { address: '93.184.216.34', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ]);
    // Cloud metadata stays refused.
    const metadata = await callLookup(lookup, 'rebind.example', { all: true });
    assert.ok(metadata.err instanceof EgressRefused, String(metadata.err));
  });

  it('resolves through the system resolver when no lookup is given', async () => {
    const { err, address } = await callLookup(guardedLookup({ allowPrivate: false }), 'localhost', {
      all: true,
    });
    assert.ok(err instanceof EgressRefused, `got ${String(err)} / ${JSON.stringify(address)}`);
    assert.match(err.message, /^localhost resolves to .*, a loopback address/);
  });
});
