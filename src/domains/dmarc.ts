/**
 * DMARC (RFC 7489) as far as readiness needs it: the policy record for a domain (or its
 * organisational domain), and whether a DKIM or SPF domain aligns with the From domain.
 */
import type { DnsLookup } from '../common/dns-lookup';

export interface DmarcRecord {
  /** Where the record was found: _dmarc.<domain> or _dmarc.<organisational domain>. */
  foundAt: string;
  record: string;
  policy: string;
  subdomainPolicy?: string;
  /** 'r' (relaxed, the default) or 's' (strict). */
  dkimAlignment: 'r' | 's';
  spfAlignment: 'r' | 's';
}

export function parseDmarcTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return tags;
}

/**
 * The last two labels: a plain approximation of the organisational domain. Without the
 * public suffix list it is wrong for names like example.co.uk, which then only check
 * the domain's own record.
 */
export function organisationalDomain(domain: string): string {
  return domain.toLowerCase().split('.').slice(-2).join('.');
}

async function recordAt(name: string, dns: DnsLookup): Promise<string[]> {
  return (await dns.txt(name))
    .map((parts) => parts.join(''))
    .filter((r) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(r.trim()));
}

/** The DMARC record that applies to `domain`, or a reason there is none usable. */
export async function findDmarc(
  domain: string,
  dns: DnsLookup,
): Promise<{ record?: DmarcRecord; error?: string }> {
  const org = organisationalDomain(domain);
  for (const name of org === domain.toLowerCase() ? [domain] : [domain, org]) {
    const records = await recordAt(`_dmarc.${name}`, dns);
    if (records.length > 1) return { error: `_dmarc.${name} has ${records.length} DMARC records` };
    if (!records.length) continue;
    const tags = parseDmarcTags(records[0]);
    const policy = (tags.get('p') ?? '').toLowerCase();
    if (!['none', 'quarantine', 'reject'].includes(policy)) {
      return { error: `_dmarc.${name} has no valid p= tag` };
    }
    const ownPolicy = name === domain ? policy : (tags.get('sp')?.toLowerCase() ?? policy);
    return {
      record: {
        foundAt: `_dmarc.${name}`,
        record: records[0],
        policy: ownPolicy,
        subdomainPolicy: tags.get('sp')?.toLowerCase(),
        dkimAlignment: tags.get('adkim')?.toLowerCase() === 's' ? 's' : 'r',
        spfAlignment: tags.get('aspf')?.toLowerCase() === 's' ? 's' : 'r',
      },
    };
  }
  return {};
}

/** Whether `other` aligns with the From domain under the given mode. */
export function aligns(fromDomain: string, other: string, mode: 'r' | 's'): boolean {
  const a = fromDomain.toLowerCase();
  const b = other.toLowerCase();
  if (mode === 's') return a === b;
  return organisationalDomain(a) === organisationalDomain(b);
}
