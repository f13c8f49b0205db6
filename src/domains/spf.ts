/**
 * SPF (RFC 7208) as far as readiness needs it: find the record, count the DNS-querying
 * terms (include, a, mx, ptr, exists, redirect) across includes against the limit of 10,
 * and collect what the record authorises: included domains and IP networks.
 */
import { BlockList, isIP } from 'node:net';
import type { DnsLookup } from '../common/dns-lookup';

export const SPF_LOOKUP_LIMIT = 10;

/**
 * The includes each provider's documentation asks senders to publish; the first is the one
 * to suggest. SparkPost's own pages show sparkpostmail.com, some guides _spf.sparkpostmail.com.
 */
export const PROVIDER_SPF_INCLUDES: Record<string, string[]> = {
  ses: ['amazonses.com'],
  mailgun: ['mailgun.org'],
  sparkpost: ['sparkpostmail.com', '_spf.sparkpostmail.com'],
  sendgrid: ['sendgrid.net'],
  postmark: ['spf.mtasv.net'],
};

const COUNTED = new Set(['include', 'a', 'mx', 'ptr', 'exists', 'redirect']);

export interface SpfTerm {
  qualifier: '+' | '-' | '~' | '?';
  /** Mechanism or modifier name, lower case. */
  name: string;
  value?: string;
}

/** The v=spf1 records among a name's TXT records (joined from their strings). */
export function spfRecords(txt: string[][]): string[] {
  return txt.map((parts) => parts.join('')).filter((r) => /^v=spf1(\s|$)/i.test(r.trim()));
}

export function parseSpf(record: string): SpfTerm[] {
  return record
    .trim()
    .split(/\s+/)
    .slice(1)
    .map((raw) => {
      const qualifier = '+-~?'.includes(raw[0]) ? (raw[0] as SpfTerm['qualifier']) : '+';
      const body = qualifier === raw[0] ? raw.slice(1) : raw;
      const m = /^([a-z0-9._-]+)(?:[:=](.*))?$/i.exec(body);
      const name = (m?.[1] ?? body).toLowerCase();
      return { qualifier, name, value: m?.[2] };
    });
}

export interface SpfEvaluation {
  /** The record at the domain itself, if exactly one. */
  record?: string;
  /** Problems that make SPF fail outright (no record, two records, a loop, a broken include). */
  errors: string[];
  /** DNS-querying terms, counted through includes and redirects. */
  lookups: number;
  /** Every domain reached by include or redirect, lower case. */
  includes: string[];
  /** Networks authorised by ip4/ip6 and by resolved a/mx terms. */
  networks: BlockList;
  /** The record ends in +all (or a bare "all"), which authorises anyone. */
  allowsAll: boolean;
}

function addNetwork(list: BlockList, value: string, defaultPrefix?: string): void {
  const [address, prefix] = value.split('/');
  const family = isIP(address);
  if (!family) return;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const bits = Number(prefix ?? defaultPrefix ?? (family === 4 ? 32 : 128));
  list.addSubnet(address, bits, type);
}

/** Follows the domain's SPF record through its includes and redirect. */
export async function evaluateSpf(domain: string, dns: DnsLookup): Promise<SpfEvaluation> {
  const result: SpfEvaluation = {
    errors: [],
    lookups: 0,
    includes: [],
    networks: new BlockList(),
    allowsAll: false,
  };
  const seen = new Set<string>();

  async function visit(name: string, top: boolean): Promise<void> {
    const key = name.toLowerCase();
    if (seen.has(key)) {
      result.errors.push(`${name} is included twice (a loop)`);
      return;
    }
    seen.add(key);
    const records = spfRecords(await dns.txt(name));
    if (records.length !== 1) {
      result.errors.push(
        records.length ? `${name} has ${records.length} SPF records` : `${name} has no SPF record`,
      );
      return;
    }
    if (top) result.record = records[0];
    const terms = parseSpf(records[0]);
    for (const term of terms) {
      if (COUNTED.has(term.name)) result.lookups += 1;
      // Past the limit receivers stop evaluating; so do we, to bound the queries.
      if (result.lookups > SPF_LOOKUP_LIMIT) return;
      const target = term.value?.split('/')[0] || name;
      const prefixes = term.value?.split('/').slice(1) ?? [];
      switch (term.name) {
        case 'include':
        case 'redirect':
          if (!term.value) break;
          result.includes.push(term.value.toLowerCase());
          await visit(term.value, false);
          break;
        case 'ip4':
        case 'ip6':
          if (term.qualifier === '+' && term.value) addNetwork(result.networks, term.value);
          break;
        case 'a':
        case 'mx': {
          if (term.qualifier !== '+') break;
          const hosts = term.name === 'mx' ? await dns.mx(target) : [target];
          for (const host of hosts) {
            for (const ip of await dns.a(host)) addNetwork(result.networks, ip, prefixes[0]);
            for (const ip of await dns.aaaa(host)) addNetwork(result.networks, ip, prefixes[1]);
          }
          break;
        }
        case 'all':
          if (top && term.qualifier === '+') result.allowsAll = true;
          break;
      }
    }
  }

  await visit(domain, true);
  return result;
}

/** Whether `ip` is inside a network the evaluation authorises. */
export function authorisesAddress(spf: SpfEvaluation, ip: string): boolean {
  const family = isIP(ip);
  if (!family) return false;
  return spf.networks.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}
