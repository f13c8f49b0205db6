/**
 * The domain readiness report: one item per check with pass, warn or fail and a sentence on
 * how to fix it. DNS comes from an injected DnsLookup; what the relay knows about a tenant
 * (transport, DKIM key, certificates, recent mail) comes in as TenantFacts, so the checks
 * themselves touch neither the network nor the database.
 */
import type { DnsLookup } from '../common/dns-lookup';
import { authorisesAddress, evaluateSpf, PROVIDER_SPF_INCLUDES, SPF_LOOKUP_LIMIT } from './spf';
import { aligns, findDmarc } from './dmarc';
import { dkimTags } from './dkim-record';
import { hasOneClickUnsubscribe } from './one-click';

export type CheckName = 'spf' | 'dkim' | 'dmarc' | 'smime' | 'unsubscribe' | 'transit';
export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface ReadinessItem {
  check: CheckName;
  status: CheckStatus;
  summary: string;
  fix?: string;
}

export interface ReadinessReport {
  domain: string;
  checkedAt: string;
  items: ReadinessItem[];
  overall: CheckStatus;
}

export interface TenantFacts {
  /** The tenant's delivery transport, and the SMTP upstream host when it is smtp. */
  transport?: { name: string; host?: string };
  dkimKey?: { domain: string; selector: string; algorithm: string; publicKey: string };
  /** Active certificates. */
  certificates: { emailAddresses: string[]; notAfter: Date }[];
  /** From addresses at the domain seen in the last 30 days, lower case. */
  senders: string[];
  /** Domains of envelope senders (bounce addresses) used with those messages. */
  envelopeDomains: string[];
  /** Header blocks of recent messages from the domain that still have their bytes. */
  recentHeaders: string[];
  /** The latest transit check from an address of the domain (see src/transit). */
  transitCheck?: {
    id: string;
    state: 'running' | 'passed' | 'failed';
    from: string;
    to: string;
    startedAt: Date;
    problems: string[];
  };
}

/** A host name with at least two labels. */
export const DOMAIN_NAME =
  /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

const DAY = 86_400_000;
const item = (check: CheckName, status: CheckStatus, summary: string, fix?: string) =>
  fix ? { check, status, summary, fix } : { check, status, summary };

async function checkSpf(domain: string, dns: DnsLookup, facts?: TenantFacts) {
  const spf = await evaluateSpf(domain, dns);
  if (!spf.record) {
    return item(
      'spf',
      'fail',
      spf.errors[0] ?? 'no SPF record',
      `Publish one TXT record "v=spf1 … ~all" at ${domain}.`,
    );
  }
  if (spf.lookups > SPF_LOOKUP_LIMIT) {
    return item(
      'spf',
      'fail',
      `SPF needs ${spf.lookups}+ DNS lookups; receivers stop at ${SPF_LOOKUP_LIMIT} and fail it`,
      'Remove includes you no longer use, or replace a/mx terms with ip4/ip6 ranges.',
    );
  }
  if (spf.errors.length) {
    return item(
      'spf',
      'fail',
      `SPF is broken: ${spf.errors.join('; ')}`,
      'Fix or remove the include that does not resolve to exactly one SPF record.',
    );
  }
  const counted = `${spf.lookups} of ${SPF_LOOKUP_LIMIT} DNS lookups`;
  if (spf.allowsAll) {
    return item(
      'spf',
      'warn',
      `SPF ends in +all and so authorises every server (${counted})`,
      'End the record with ~all or -all.',
    );
  }
  const transport = facts?.transport;
  if (!transport) return item('spf', 'pass', `SPF record found, ${counted}`);
  const accepted = PROVIDER_SPF_INCLUDES[transport.name];
  if (accepted) {
    const found = accepted.find((d) => spf.includes.includes(d));
    return found
      ? item('spf', 'pass', `SPF includes ${found} for ${transport.name} (${counted})`)
      : // A warning, not a failure: with the provider's own bounce (MAIL FROM) domain,
        // the default for several of them, receivers check SPF there instead.
        item(
          'spf',
          'warn',
          `SPF does not include ${accepted[0]}, which ${transport.name} sends from`,
          `Add include:${accepted[0]} before the all term if ${transport.name} uses a bounce domain under this domain (a custom MAIL FROM); with the provider's own bounce domain SPF is checked there, and DKIM carries DMARC alignment.`,
        );
  }
  if (transport.name === 'smtp' && transport.host) {
    const host = transport.host;
    const addresses = /^[\d.]+$|:/.test(host)
      ? [host]
      : [...(await dns.a(host)), ...(await dns.aaaa(host))];
    if (!addresses.length) {
      return item(
        'spf',
        'warn',
        `SPF record found (${counted}); cannot tell whether it covers ${host}, which does not resolve`,
        `Make sure SPF authorises the servers ${host} delivers from.`,
      );
    }
    const missing = addresses.filter((ip) => !authorisesAddress(spf, ip));
    if (!missing.length)
      return item('spf', 'pass', `SPF authorises ${host} (${addresses.join(', ')}); ${counted}`);
    return item(
      'spf',
      'warn',
      `SPF does not list ${missing.join(', ')} (${host}); it may still cover the servers that relay onwards`,
      `If ${host} delivers to the internet itself, add ip4:/ip6: for it; otherwise add its provider's include.`,
    );
  }
  return item(
    'spf',
    'warn',
    `SPF record found (${counted}); cannot tell which servers ${transport.name} sends from`,
    "Check the transport's documentation for the include to add.",
  );
}

async function checkDkim(domain: string, dns: DnsLookup, facts: TenantFacts) {
  const key = facts.dkimKey;
  if (!key)
    return item(
      'dkim',
      'warn',
      'the relay has no DKIM key for this tenant',
      'Create a DKIM key for the domain, or make sure your upstream signs with one aligned to it.',
    );
  if (key.domain.toLowerCase() !== domain.toLowerCase()) {
    return item(
      'dkim',
      'warn',
      `the tenant's DKIM key is for ${key.domain}, not ${domain}`,
      `Create the DKIM key for ${domain} if mail is sent from it.`,
    );
  }
  const name = `${key.selector}._domainkey.${domain}`;
  const records = (await dns.txt(name))
    .map((p) => p.join(''))
    .filter((r) => /(^|;)\s*p\s*=/.test(r));
  const publish = `Publish TXT at ${name}: "v=DKIM1; k=${key.algorithm.startsWith('ed25519') ? 'ed25519' : 'rsa'}; p=${key.publicKey}".`;
  if (!records.length) return item('dkim', 'fail', `no DKIM key published at ${name}`, publish);
  if (records.length > 1)
    return item(
      'dkim',
      'fail',
      `${name} has ${records.length} key records`,
      `Keep only one. ${publish}`,
    );
  const tags = dkimTags(records[0]);
  const kind = (tags.get('k') ?? 'rsa').toLowerCase();
  const expected = key.algorithm.startsWith('ed25519') ? 'ed25519' : 'rsa';
  if (tags.get('p') !== key.publicKey.replace(/\s+/g, '') || kind !== expected) {
    return item(
      'dkim',
      'fail',
      `the key at ${name} is not the relay's key`,
      `Replace the record. ${publish}`,
    );
  }
  return item('dkim', 'pass', `selector ${key.selector} is published and matches the relay's key`);
}

async function checkDmarc(domain: string, dns: DnsLookup, facts?: TenantFacts) {
  const found = await findDmarc(domain, dns);
  if (found.error)
    return item('dmarc', 'fail', found.error, 'Keep exactly one record starting "v=DMARC1; p=…".');
  const dmarc = found.record;
  if (!dmarc)
    return item(
      'dmarc',
      'fail',
      `no DMARC record at _dmarc.${domain}`,
      `Publish TXT at _dmarc.${domain}: "v=DMARC1; p=none; rua=mailto:…", then tighten the policy.`,
    );
  const notes = [`policy ${dmarc.policy} (from ${dmarc.foundAt})`];
  let status: CheckStatus = dmarc.policy === 'none' ? 'warn' : 'pass';
  let fix =
    dmarc.policy === 'none'
      ? 'Once reports show your mail aligns, move to p=quarantine or p=reject.'
      : undefined;
  if (facts) {
    const dkimAligned =
      !!facts.dkimKey && aligns(domain, facts.dkimKey.domain, dmarc.dkimAlignment);
    const spfAligned =
      facts.envelopeDomains.length > 0 &&
      facts.envelopeDomains.every((d) => aligns(domain, d, dmarc.spfAlignment));
    notes.push(
      `DKIM ${dkimAligned ? 'aligned' : 'not aligned'}`,
      `SPF ${spfAligned ? 'aligned' : facts.envelopeDomains.length ? 'not aligned (bounce address on another domain)' : 'unknown (no recent mail)'}`,
    );
    if (!dkimAligned && !spfAligned) {
      status = 'fail';
      fix = `Sign with a DKIM key for ${domain}, or use a bounce address under ${domain}; DMARC needs one of them to align.`;
    }
  }
  return item('dmarc', status, notes.join('; '), fix);
}

function checkSmime(facts: TenantFacts, now: Date) {
  if (!facts.senders.length)
    return item(
      'smime',
      'warn',
      'no mail from this domain in the last 30 days, so no sender to check',
      'Send a message through the relay, then run the check again.',
    );
  const uncovered: string[] = [];
  let fewestDays = Infinity;
  for (const sender of facts.senders) {
    const covering = facts.certificates.filter(
      (c) => c.notAfter > now && c.emailAddresses.some((e) => e.toLowerCase() === sender),
    );
    if (!covering.length) uncovered.push(sender);
    else
      fewestDays = Math.min(
        fewestDays,
        Math.floor((Math.max(...covering.map((c) => c.notAfter.getTime())) - now.getTime()) / DAY),
      );
  }
  if (uncovered.length)
    return item(
      'smime',
      'fail',
      `no active certificate covers ${uncovered.join(', ')}`,
      'Upload an S/MIME certificate for each of these addresses.',
    );
  const summary = `${facts.senders.length} sender(s) covered; ${fewestDays} day(s) left on the soonest to expire`;
  return fewestDays < 30
    ? item(
        'smime',
        'warn',
        summary,
        'Renew the certificate and upload the new one before it expires.',
      )
    : item('smime', 'pass', summary);
}

function checkUnsubscribe(facts: TenantFacts) {
  const total = facts.recentHeaders.length;
  if (!total)
    return item(
      'unsubscribe',
      'warn',
      'no recent message from this domain is still stored, so nothing to check',
      'Send a message through the relay, then run the check again.',
    );
  const ok = facts.recentHeaders.filter(hasOneClickUnsubscribe).length;
  const summary = `${ok} of ${total} recent message(s) have one-click unsubscribe`;
  const fix =
    'Add "List-Unsubscribe: <https://…>" and "List-Unsubscribe-Post: List-Unsubscribe=One-Click" to every marketing message.';
  if (ok === total) return item('unsubscribe', 'pass', summary);
  return item('unsubscribe', ok ? 'warn' : 'fail', summary, fix);
}

function checkTransit(facts: TenantFacts, now: Date) {
  const c = facts.transitCheck;
  const setUp =
    'Name a seed mailbox with PUT /v1/tenants/:tenantId/transit-check and run POST /v1/tenants/:tenantId/transit-checks.';
  if (!c) return item('transit', 'warn', 'no transit check from this domain yet', setUp);
  const when = c.startedAt.toISOString();
  if (c.state === 'running')
    return item('transit', 'warn', `a transit check started ${when} is still running`);
  if (c.state === 'failed') {
    return item(
      'transit',
      'fail',
      `the transit check of ${when} (${c.from} to ${c.to}) failed: ${c.problems[0] ?? 'see the check'}`,
      `Read GET /v1/tenants/:tenantId/transit-checks/${c.id} for what changed in transit, fix the delivery path (tracking, footers, re-encoding), then check again.`,
    );
  }
  const days = Math.floor((now.getTime() - c.startedAt.getTime()) / DAY);
  const summary = `the transit check of ${when} (${c.from} to ${c.to}) passed`;
  return days > 7
    ? item(
        'transit',
        'warn',
        `${summary}, ${days} days ago`,
        `Check again, or set a daily schedule. ${setUp}`,
      )
    : item('transit', 'pass', summary);
}

/** A check whose DNS lookups failed (timeout, SERVFAIL): nothing is known, so it fails. */
async function guarded(
  check: CheckName,
  run: () => Promise<ReadinessItem>,
): Promise<ReadinessItem> {
  try {
    return await run();
  } catch (e) {
    return item(
      check,
      'fail',
      `DNS lookup failed: ${(e as Error).message}`,
      "Check that the resolver (DNS_RESOLVER, or the system's) answers and that the domain's name servers respond, then run the check again.",
    );
  }
}

/** The report; without facts only the DNS checks that need nothing from the database run. */
export async function checkReadiness(
  domain: string,
  dns: DnsLookup,
  facts?: TenantFacts,
  now = new Date(),
): Promise<ReadinessReport> {
  const items: ReadinessItem[] = [await guarded('spf', () => checkSpf(domain, dns, facts))];
  if (facts) items.push(await guarded('dkim', () => checkDkim(domain, dns, facts)));
  items.push(await guarded('dmarc', () => checkDmarc(domain, dns, facts)));
  if (facts) items.push(checkSmime(facts, now), checkUnsubscribe(facts), checkTransit(facts, now));
  const overall: CheckStatus = items.some((i) => i.status === 'fail')
    ? 'fail'
    : items.some((i) => i.status === 'warn')
      ? 'warn'
      : 'pass';
  return { domain, checkedAt: now.toISOString(), items, overall };
}
