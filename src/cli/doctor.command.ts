/** smime-relay doctor --domain D [--tenant ID]: the domain readiness report, for a person. */
import { parseArgs } from 'node:util';
import { RelayError } from '../plugin/relay-error';
import { usageErrors } from './args';
import { systemDnsLookup, type DnsLookup } from '../common/dns-lookup';
import {
  checkReadiness,
  DOMAIN_NAME,
  type ReadinessReport,
  type TenantFacts,
} from '../domains/readiness';

export const DOCTOR_USAGE = `Usage: smime-relay doctor --domain DOMAIN [--tenant ID] [--json]

Checks whether DOMAIN is ready to send from: SPF, DMARC and, with --tenant, DKIM, S/MIME
certificate coverage and one-click unsubscribe on recent mail (read from DATABASE_URL, or
the embedded database under DATA_DIR). Exits 0 when nothing fails, 1 otherwise.
DNS goes to the system resolver, or to DNS_RESOLVER (comma-separated IPs).

  --domain DOMAIN   the domain in your From addresses
  --tenant ID       also run the checks that need the tenant's data
  --json            print the report as JSON`;

/** One line per item: status, check, summary, then the fix indented below it. */
export function formatReport(report: ReadinessReport): string {
  const lines = [`Readiness of ${report.domain} (${report.checkedAt})`, ''];
  for (const i of report.items) {
    lines.push(`${i.status.toUpperCase().padEnd(4)}  ${i.check.padEnd(11)} ${i.summary}`);
    if (i.fix) lines.push(`${' '.repeat(18)}fix: ${i.fix}`);
  }
  lines.push('', `Overall: ${report.overall.toUpperCase()}`);
  return lines.join('\n');
}

export async function doctorCommand(
  argv: string[],
  deps: { dns?: DnsLookup; write?: (s: string) => void } = {},
): Promise<number> {
  const { values } = usageErrors(() =>
    parseArgs({
      args: argv,
      strict: true,
      options: {
        domain: { type: 'string' },
        tenant: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  const write = deps.write ?? ((s: string) => process.stdout.write(s + '\n'));
  if (values.help) {
    write(DOCTOR_USAGE);
    return 0;
  }
  if (!values.domain || !DOMAIN_NAME.test(values.domain)) {
    throw new RelayError('usage', '--domain needs a domain name, e.g. --domain example.com');
  }
  const domain = values.domain.toLowerCase();
  const dns = deps.dns ?? systemDnsLookup(process.env.DNS_RESOLVER);
  let facts: TenantFacts | undefined;
  if (values.tenant) {
    // Loaded only here, so a DNS-only run needs no database.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { openDatabase } =
      require('../database/connection') as typeof import('../database/connection');
    const { loadTenantFacts } =
      require('../domains/tenant-facts') as typeof import('../domains/tenant-facts');
    const { TenantsRepository } =
      require('../tenants/tenants.repository') as typeof import('../tenants/tenants.repository');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const db = await openDatabase({
      DATABASE_URL: process.env.DATABASE_URL,
      DATA_DIR: process.env.DATA_DIR ?? './data',
    });
    try {
      const tenant = await new TenantsRepository(db).find(values.tenant);
      if (!tenant) throw new RelayError('usage', `no tenant with id ${values.tenant}`);
      facts = await loadTenantFacts(db.session, values.tenant, domain);
    } finally {
      await db.close();
    }
  }
  const report = await checkReadiness(domain, dns, facts);
  write(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.overall === 'fail' ? 1 : 0;
}
