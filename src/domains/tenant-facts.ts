/** What the database knows about a tenant's sending from a domain, for the readiness checks. */
import type { SqlSession } from '../database/migrator';
import type { TenantFacts } from './readiness';

const HEADER_BYTES = 16384;
const RECENT_MESSAGES = 20;

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

export async function loadTenantFacts(
  session: SqlSession,
  tenantId: string,
  domain: string,
): Promise<TenantFacts> {
  const d = domain.toLowerCase();
  const [delivery] = await session.query<{ transport: string; settings: Record<string, unknown> }>(
    'SELECT transport, settings FROM delivery_settings WHERE tenant_id = $1',
    [tenantId],
  );
  const [dkim] = await session.query<{
    domain: string;
    selector: string;
    algorithm: string;
    public_key: string;
  }>('SELECT domain, selector, algorithm, public_key FROM dkim_keys WHERE tenant_id = $1', [
    tenantId,
  ]);
  const certificates = await session.query<{ email_addresses: string[]; not_after: Date | string }>(
    "SELECT email_addresses, not_after FROM certificates WHERE tenant_id = $1 AND status = 'active'",
    [tenantId],
  );
  const senders = await session.query<{ sender: string; envelope_from: string }>(
    `SELECT DISTINCT lower(from_address) AS sender, lower(envelope_from) AS envelope_from
       FROM messages
      WHERE tenant_id = $1 AND created_at > now() - interval '30 days'
        AND split_part(lower(from_address), '@', 2) = $2`,
    [tenantId, d],
  );
  const recent = await session.query<{ head: Uint8Array }>(
    `SELECT substring(raw from 1 for ${HEADER_BYTES}) AS head
       FROM messages
      WHERE tenant_id = $1 AND raw IS NOT NULL AND split_part(lower(from_address), '@', 2) = $2
      ORDER BY created_at DESC LIMIT ${RECENT_MESSAGES}`,
    [tenantId, d],
  );
  const [transit] = await session.query<{
    id: string;
    state: 'running' | 'passed' | 'failed';
    from_address: string;
    seed_address: string;
    started_at: Date | string;
    problems: string[] | null;
  }>(
    `SELECT id, state, from_address, seed_address, started_at, result->'problems' AS problems
       FROM transit_checks
      WHERE tenant_id = $1 AND split_part(lower(from_address), '@', 2) = $2
      ORDER BY started_at DESC LIMIT 1`,
    [tenantId, d],
  );
  const host = delivery?.settings?.host;
  return {
    transport: delivery
      ? { name: delivery.transport, host: typeof host === 'string' ? host : undefined }
      : undefined,
    dkimKey: dkim
      ? {
          domain: dkim.domain,
          selector: dkim.selector,
          algorithm: dkim.algorithm,
          publicKey: dkim.public_key,
        }
      : undefined,
    certificates: certificates.map((c) => ({
      emailAddresses: c.email_addresses,
      notAfter: new Date(c.not_after),
    })),
    senders: [...new Set(senders.map((s) => s.sender))],
    envelopeDomains: [
      ...new Set(senders.filter((s) => s.envelope_from).map((s) => domainOf(s.envelope_from))),
    ],
    recentHeaders: recent.map((r) => Buffer.from(r.head).toString('latin1')),
    transitCheck: transit
      ? {
          id: transit.id,
          state: transit.state,
          from: transit.from_address,
          to: transit.seed_address,
          startedAt: new Date(transit.started_at),
          problems: transit.problems ?? [],
        }
      : undefined,
  };
}
