/**
 * Where webhooks may go: http or https URLs whose host resolves only to public addresses.
 * The URL is checked when a subscription is saved (checkWebhookUrl) and again at each
 * delivery: IP literals before connecting (checkWebhookUrlWithoutDns), host names inside
 * the connection's own DNS lookup (guardedLookup), so an answer that changes after the save
 * (DNS rebinding) is still refused. allowPrivate (WEBHOOK_ALLOW_PRIVATE,
 * PLATFORM_ALLOW_PRIVATE) lets loopback and private addresses through, for tests and for
 * receivers on a private network; cloud metadata and link-local addresses stay refused.
 */
import { promises as dns } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

export class EgressRefused extends Error {
  override readonly name = 'EgressRefused';
}

/** Resolves a host name to every address it has. */
export type Lookup = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export interface EgressOptions {
  allowPrivate: boolean;
  lookup?: Lookup;
}

export const systemLookup: Lookup = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** [network, prefix length, range name]; the first match wins, so single hosts come first. */
const IPV4_RANGES: [string, number, string][] = [
  ['169.254.169.254', 32, 'metadata'],
  ['255.255.255.255', 32, 'broadcast'],
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

/** A dotted-quad IPv4 address as an unsigned 32-bit number. */
function ipv4Number(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

const IPV4_NETWORKS = IPV4_RANGES.map(([network, prefix, name]) => {
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return { base: ipv4Number(network), mask, name };
});

function ipv4Range(n: number): string | undefined {
  return IPV4_NETWORKS.find((r) => (n & r.mask) >>> 0 === r.base)?.name;
}

/** The eight 16-bit groups of an IPv6 address (already validated by net.isIP). */
function ipv6Groups(address: string): number[] {
  // A trailing dotted IPv4 part (::ffff:127.0.0.1) becomes two hex groups (::ffff:7f00:1).
  const text = address.replace(/(\d+\.\d+\.\d+\.\d+)$/, (dotted) => {
    const n = ipv4Number(dotted);
    return `${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  });
  const groups = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
  if (!text.includes('::')) return groups(text);
  const [head, tail] = text.split('::');
  const before = groups(head);
  const after = groups(tail);
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}

function ipv6Range(g: number[]): string | undefined {
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  const embeddedIpv4 = (): number => g[6] * 65536 + g[7];
  if (zeros(0, 8)) return 'unspecified';
  if (zeros(0, 7) && g[7] === 1) return 'loopback';
  if (g.join(':') === [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254].join(':')) return 'metadata';
  if (zeros(0, 5) && g[5] === 0xffff) return ipv4Range(embeddedIpv4());
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return ipv4Range(embeddedIpv4());
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'local-use NAT64';
  if (zeros(0, 6)) return 'IPv4-compatible';
  if ((g[0] & 0xfe00) === 0xfc00) return 'unique local';
  if ((g[0] & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0] & 0xffc0) === 0xfec0) return 'site-local';
  if ((g[0] & 0xff00) === 0xff00) return 'multicast';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'documentation';
  return undefined;
}

/**
 * The name of the blocked range `address` belongs to ("loopback", "private", …), or
 * undefined for a public address. Something that is not an IP address is "unrecognised".
 */
export function blockedRange(address: string): string | undefined {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  switch (isIP(bare)) {
    case 4:
      return ipv4Range(ipv4Number(bare));
    case 6:
      return ipv6Range(ipv6Groups(bare));
    default:
      return 'unrecognised';
  }
}

/** The URL as it may appear in messages: no credentials, no query string, no fragment. */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function refusal(subject: string, address: string, range: string): EgressRefused {
  const article = /^([aeio]|un(?!i))/i.test(range) ? 'an' : 'a';
  return new EgressRefused(
    `${subject} resolves to ${address}, ${article} ${range} address; webhooks may only go to public addresses`,
  );
}

/** Ranges refused even with allowPrivate: a cloud's metadata service is never a receiver. */
const ALWAYS_BLOCKED = new Set(['metadata', 'link-local']);

function refuseBlocked(subject: string, addresses: string[], allowPrivate: boolean): void {
  for (const address of addresses) {
    const range = blockedRange(address);
    if (range !== undefined && (!allowPrivate || ALWAYS_BLOCKED.has(range))) {
      throw refusal(subject, address, range);
    }
  }
}

/** The host without IPv6 brackets. */
function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * The checks that need no DNS: a parsable http(s) URL without credentials whose host, if
 * it is an IP literal, is public. Host names are left to guardedLookup at connect time.
 */
export function checkWebhookUrlWithoutDns(url: string, o: { allowPrivate: boolean }): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EgressRefused('the webhook URL is not a valid absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new EgressRefused(
      `${shown(parsed)} uses ${parsed.protocol.replace(/:$/, '')}; webhooks may only use http or https`,
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new EgressRefused(
      `${shown(parsed)} contains a user name or password; webhook URLs may not carry credentials`,
    );
  }
  const host = bareHostname(parsed);
  if (isIP(host)) refuseBlocked(shown(parsed), [host], o.allowPrivate);
  return parsed;
}

/**
 * Checks a webhook URL before a subscription is saved: everything checkWebhookUrlWithoutDns
 * checks, and that the host resolves, and (unless allowPrivate) only to public addresses.
 */
export async function checkWebhookUrl(url: string, o: EgressOptions): Promise<URL> {
  const parsed = checkWebhookUrlWithoutDns(url, o);
  const host = bareHostname(parsed);
  if (isIP(host)) return parsed;
  let addresses: string[];
  try {
    addresses = (await (o.lookup ?? systemLookup)(host)).map((a) => a.address);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const reason = typeof code === 'string' ? ` (${code})` : '';
    throw new EgressRefused(
      `${shown(parsed)} cannot be reached: ${host} does not resolve${reason}`,
    );
  }
  if (addresses.length === 0) {
    throw new EgressRefused(`${shown(parsed)} cannot be reached: ${host} has no address`);
  }
  refuseBlocked(shown(parsed), addresses, o.allowPrivate);
  return parsed;
}

function wantedFamily(family: unknown): 4 | 6 | undefined {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return undefined;
}

/**
 * A `lookup` for http.request / https.request that resolves the host and refuses, with an
 * EgressRefused error, if any of its addresses is blocked. DNS failures are passed on as
 * they are (a network error, worth a retry), refusals as EgressRefused.
 */
export function guardedLookup(o: EgressOptions): LookupFunction {
  const lookup = o.lookup ?? systemLookup;
  return (hostname, options, callback) => {
    const family = wantedFamily(options.family);
    lookup(hostname)
      .then((answers) => {
        refuseBlocked(
          hostname,
          answers.map((a) => a.address),
          o.allowPrivate,
        );
        const usable = answers.filter((a) => family === undefined || a.family === family);
        if (usable.length === 0) {
          const wanted = family === undefined ? '' : ` IPv${family}`;
          throw Object.assign(new Error(`${hostname} has no${wanted} address`), {
            code: 'ENOTFOUND',
            hostname,
          });
        }
        return usable;
      })
      .then(
        (usable) => {
          if (options.all) callback(null, usable);
          else callback(null, usable[0].address, usable[0].family);
        },
        (err: NodeJS.ErrnoException) => callback(err, options.all ? [] : ''),
      );
  };
}

/**
 * The address to connect to for a host that is not reached over HTTP (an IMAP server): the
 * host is resolved once, refused if any address is blocked, and the first address returned,
 * so that the connection goes where the check looked.
 */
export async function checkedAddress(host: string, o: EgressOptions): Promise<string> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(bare)) addresses = [bare];
  else {
    try {
      addresses = (await (o.lookup ?? systemLookup)(bare)).map((a) => a.address);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      throw new EgressRefused(
        `${bare} does not resolve${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    }
  }
  if (addresses.length === 0) throw new EgressRefused(`${bare} has no address`);
  refuseBlocked(bare, addresses, o.allowPrivate);
  return addresses[0];
}
