/**
 * The DNS questions the readiness checks ask, behind an interface so tests answer them with
 * a stub. A name that does not exist, or has no records of the type, answers [].
 */
import { promises as dns } from 'node:dns';

export interface DnsLookup {
  /** TXT records, each as its character-strings (join them to get the record). */
  txt(name: string): Promise<string[][]>;
  a(name: string): Promise<string[]>;
  aaaa(name: string): Promise<string[]>;
  /** MX exchanges, host names only. */
  mx(name: string): Promise<string[]>;
}

const NO_ANSWER = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME']);

async function orEmpty<T>(question: Promise<T[]>): Promise<T[]> {
  try {
    return await question;
  } catch (e) {
    if (NO_ANSWER.has((e as NodeJS.ErrnoException).code ?? '')) return [];
    throw e;
  }
}

/**
 * The system resolver, or the servers in `servers` (comma-separated IPs, optionally with
 * :port, as DNS_RESOLVER gives them) for private networks.
 */
export function systemDnsLookup(servers?: string): DnsLookup {
  const resolver = new dns.Resolver({ timeout: 5000, tries: 2 });
  const list = (servers ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length) resolver.setServers(list);
  return {
    txt: (name) => orEmpty(resolver.resolveTxt(name)),
    a: (name) => orEmpty(resolver.resolve4(name)),
    aaaa: (name) => orEmpty(resolver.resolve6(name)),
    mx: async (name) => (await orEmpty(resolver.resolveMx(name))).map((m) => m.exchange),
  };
}

/** Holds the lookup the API uses; tests replace `.lookup` with a stub. */
export class DnsLookupHolder {
  constructor(public lookup: DnsLookup) {}
}
