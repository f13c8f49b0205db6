/**
 * The one egress policy: for each kind of destination a tenant or an integration can set,
 * what the operator lets it reach besides public addresses.
 *
 * | destination     | private addresses allowed by            |
 * | --------------- | --------------------------------------- |
 * | webhook         | WEBHOOK_ALLOW_PRIVATE                   |
 * | platform        | PLATFORM_ALLOW_PRIVATE (listmonk, Mautic, unsubscribe links) |
 * | provider-api    | PROVIDER_API_ALLOW_PRIVATE (operator-set API roots) |
 * | smtp-upstream   | SMTP_UPSTREAM_ALLOW: networks (CIDR) and host names |
 * | imap            | IMAP_ALLOW_PRIVATE                      |
 *
 * Cloud metadata, link-local, multicast and reserved addresses are refused for all of them.
 */
import ipaddr from 'ipaddr.js';
import type { LookupFunction } from 'node:net';
import {
  checkedAddress,
  checkUrl,
  checkUrlWithoutDns,
  guardedLookup,
  type EgressOptions,
  type Lookup,
} from './egress-guard';

export const DESTINATIONS = [
  'webhook',
  'platform',
  'provider-api',
  'smtp-upstream',
  'imap',
] as const;
export type Destination = (typeof DESTINATIONS)[number];

export interface EgressSettings {
  WEBHOOK_ALLOW_PRIVATE?: boolean;
  PLATFORM_ALLOW_PRIVATE?: boolean;
  PROVIDER_API_ALLOW_PRIVATE?: boolean;
  IMAP_ALLOW_PRIVATE?: boolean;
  /** Comma-separated CIDR networks and host names an SMTP upstream may be on when private. */
  SMTP_UPSTREAM_ALLOW?: string;
}

/** The entries of SMTP_UPSTREAM_ALLOW, or why one is not usable. */
export function parseUpstreamAllowList(list: string | undefined): {
  networks: [ipaddr.IPv4 | ipaddr.IPv6, number][];
  hosts: Set<string>;
} {
  const networks: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  const hosts = new Set<string>();
  for (const entry of (list ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    if (entry.includes('/')) {
      networks.push(ipaddr.parseCIDR(entry)); // throws on a bad network: a config error
    } else if (ipaddr.isValid(entry)) {
      const a = ipaddr.parse(entry);
      networks.push([a, a.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^[a-z0-9.-]+$/i.test(entry)) {
      hosts.add(entry.toLowerCase().replace(/\.$/, ''));
    } else {
      throw new Error(`"${entry}" is neither a network, an address nor a host name`);
    }
  }
  return { networks, hosts };
}

export class EgressPolicy {
  private readonly upstreams: ReturnType<typeof parseUpstreamAllowList>;

  constructor(
    private readonly settings: EgressSettings,
    /** DNS for the checks (tests); the system resolver otherwise. */
    private readonly dns?: Lookup,
  ) {
    this.upstreams = parseUpstreamAllowList(settings.SMTP_UPSTREAM_ALLOW);
  }

  /** What the guard needs for a destination (and, for an SMTP upstream, its host name). */
  options(destination: Destination, host?: string): EgressOptions {
    const s = this.settings;
    const lookup = this.dns;
    switch (destination) {
      case 'webhook':
        return { allowPrivate: s.WEBHOOK_ALLOW_PRIVATE === true, lookup };
      case 'platform':
        return { allowPrivate: s.PLATFORM_ALLOW_PRIVATE === true, lookup };
      case 'provider-api':
        return { allowPrivate: s.PROVIDER_API_ALLOW_PRIVATE === true, lookup };
      case 'imap':
        return { allowPrivate: s.IMAP_ALLOW_PRIVATE === true, lookup };
      case 'smtp-upstream': {
        const named =
          host !== undefined && this.upstreams.hosts.has(host.toLowerCase().replace(/\.$/, ''));
        return {
          allowPrivate: named || ((address) => this.inAllowedNetwork(address)),
          lookup,
        };
      }
    }
  }

  private inAllowedNetwork(address: string): boolean {
    const a = ipaddr.process(address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, ''));
    return this.upstreams.networks.some(
      ([net, bits]) => a.kind() === net.kind() && a.match(net, bits),
    );
  }

  /** Checks an http(s) URL when it is saved. */
  checkUrl(destination: Destination, url: string): Promise<URL> {
    return checkUrl(url, this.options(destination));
  }

  /** The checks of a URL that need no DNS (scheme, credentials, an IP-literal host). */
  checkUrlWithoutDns(destination: Destination, url: string): URL {
    return checkUrlWithoutDns(url, this.options(destination));
  }

  /** Checks a host when it is saved or connected to; the address to connect to. */
  address(destination: Destination, host: string): Promise<string> {
    return checkedAddress(host, this.options(destination, host));
  }

  /** A lookup for http(s) agents that refuses blocked answers at connect time. */
  lookup(destination: Destination): LookupFunction {
    return guardedLookup(this.options(destination));
  }

  /** Whether private addresses are open to a destination at all (for hints in messages). */
  opensPrivate(destination: Destination): boolean {
    const o = this.options(destination).allowPrivate;
    return o === true || (typeof o === 'function' && this.upstreams.networks.length > 0);
  }
}
