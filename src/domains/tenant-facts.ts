/**
 * What the database knows about a tenant's sending from a domain, for the readiness checks:
 * each fact read through the module that owns its table.
 */
import type { SqlSession } from '../database/migrator';
import { activeCertificatesOf } from '../certificates/certificates.repository';
import { dkimPublicKeyOf } from '../dkim/dkim-keys';
import { deliveryTransportOf } from '../relay/delivery-settings';
import { recentHeads, recentSenders } from '../relay/message-log';
import { latestTransitCheck } from '../transit/transit-check-records';
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
  const delivery = await deliveryTransportOf(session, tenantId);
  const dkim = await dkimPublicKeyOf(session, tenantId);
  const certificates = await activeCertificatesOf(session, tenantId);
  const senders = await recentSenders(session, tenantId, d);
  const heads = await recentHeads(session, tenantId, d, HEADER_BYTES, RECENT_MESSAGES);
  const transit = await latestTransitCheck(session, tenantId, d);
  const host = delivery?.settings?.host;
  return {
    transport: delivery
      ? { name: delivery.transport, host: typeof host === 'string' ? host : undefined }
      : undefined,
    dkimKey: dkim,
    certificates: certificates.map((c) => ({
      emailAddresses: c.emailAddresses,
      notAfter: new Date(c.notAfter),
    })),
    senders: [...new Set(senders.map((s) => s.sender))],
    envelopeDomains: [
      ...new Set(senders.filter((s) => s.envelope_from).map((s) => domainOf(s.envelope_from))),
    ],
    recentHeaders: heads.map((h) => h.toString('latin1')),
    transitCheck: transit,
  };
}
