// DKIM & domain: the tenant's DKIM key with the DNS record to publish, and the readiness
// report of a domain (filled with the DKIM domain, or the domain of a certificate address).
import { api, tenantPath } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { dkimSection } from './dkim.js';
import { readinessSection } from './readiness.js';

export async function renderDomain(ctx) {
  const { main, tenantId } = ctx;
  const [tenant, certificates] = await Promise.all([
    api('GET', tenantPath(tenantId)),
    api('GET', tenantPath(tenantId, '/certificates')),
  ]);
  if (ctx.stale()) return;
  const certificateDomain = certificates
    .filter((c) => c.status === 'active')
    .flatMap((c) => c.emailAddresses)
    .map((a) => a.split('@')[1])
    .find(Boolean);
  main.append(h('h1', {}, t('domainTitle', { tenant: tenant.name })));
  const readiness = readinessSection(ctx);
  const dkim = dkimSection(ctx, {
    suggestedDomain: certificateDomain,
    onChange: (domain) => readiness.useDomain(domain ?? certificateDomain),
  });
  main.append(dkim.el, readiness.el);
  await dkim.reload();
}
