/**
 * What kind of address an outbound connection would go to, by the maintained ipaddr.js
 * classification (IANA special-purpose registries), with the IPv6 forms that carry an IPv4
 * address inside judged by that address: IPv4-mapped and -compatible (::/96), IPv4-translated
 * (RFC 6145), NAT64 (RFC 6052, 64:ff9b::/96 and the local-use 64:ff9b:1::/48), 6to4
 * (2002::/16) and Teredo (2001::/32, server and client). Cloud metadata services are
 * named explicitly: no registry lists them.
 */
import ipaddr from 'ipaddr.js';

/** Instance metadata services: AWS, ECS task metadata, Alibaba, Oracle, AWS over IPv6. */
const METADATA = new Set([
  '169.254.169.254',
  '169.254.170.2',
  '169.254.169.253',
  '100.100.100.200',
  '192.0.0.192',
  'fd00:ec2::254',
  'fd00:ec2::23',
]);

/** ipaddr.js range names as the relay's messages say them; `unicast` is public. */
const NAMES: Record<string, string> = {
  unicast: 'public',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private',
  reserved: 'reserved',
  uniqueLocal: 'unique local',
  deprecatedSiteLocal: 'site-local',
  discard: 'discard',
  benchmarking: 'benchmarking',
  amt: 'reserved',
  as112: 'reserved',
  as112v6: 'reserved',
  deprecatedOrchid: 'reserved',
  orchid2: 'reserved',
  droneRemoteIdProtocolEntityTags: 'reserved',
};

const EMBEDDING = new Set(['ipv4Mapped', 'rfc6145', 'rfc6052', '6to4', 'teredo']);

function v4From(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** The IPv4 addresses an IPv6 address of an embedding range carries. */
function embedded(a: ipaddr.IPv6, range: string): ipaddr.IPv4[] {
  const p = a.parts;
  switch (range) {
    case '6to4':
      return [v4From(p[1], p[2])];
    case 'teredo':
      // the server, and the client's address stored inverted in the last 32 bits
      return [v4From(p[2], p[3]), v4From(~p[6] & 0xffff, ~p[7] & 0xffff)];
    default:
      return [v4From(p[6], p[7])];
  }
}

function classOf(a: ipaddr.IPv4 | ipaddr.IPv6): string {
  const text = a.toNormalizedString();
  if (METADATA.has(text) || METADATA.has(a.toString())) return 'metadata';
  let range = a.range();
  // IPv4-compatible (::a.b.c.d, ::/96, deprecated by RFC 4291): judged by the IPv4 address.
  if (
    a.kind() === 'ipv6' &&
    range === 'unicast' &&
    (a as ipaddr.IPv6).parts.slice(0, 6).every((x) => x === 0)
  ) {
    range = 'ipv4Mapped';
  }
  if (a.kind() === 'ipv6' && EMBEDDING.has(range)) {
    const inner = embedded(a as ipaddr.IPv6, range).map(classOf);
    return inner.find((c) => c !== 'public') ?? 'public';
  }
  return NAMES[range] ?? 'reserved';
}

/**
 * The kind of `address` ("public", "loopback", "private", "metadata", …); "unrecognised" for
 * anything that is not an IP address. Brackets and an IPv6 zone are ignored.
 */
export function addressClass(address: string): string {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return 'unrecognised';
  // isValid also takes forms like "0x7f.1" and "2130706433"; classify what they mean.
  return classOf(ipaddr.parse(bare));
}

/** What `allowPrivate` lets through; everything else not public is always refused. */
export const PRIVATE_CLASSES: ReadonlySet<string> = new Set([
  'loopback',
  'private',
  'unique local',
  'carrier-grade NAT',
]);
