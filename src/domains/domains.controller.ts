/** GET /v1/tenants/:tenantId/domains/:domain/readiness: is the domain ready to send from? */
import { TenantScope } from '../tenants/tenant-scope';
import { BadRequestException, Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import { TenantsRepository } from '../tenants/tenants.repository';
import { DATABASE } from '../database/database.module';
import type { Database } from '../database/connection';
import { DnsLookupHolder } from '../common/dns-lookup';
import { checkReadiness, DOMAIN_NAME, type ReadinessReport } from './readiness';
import { loadTenantFacts } from './tenant-facts';

@Controller('v1/tenants/:tenantId/domains')
@UseGuards(BearerGuard, TenantScope)
export class DomainsController {
  constructor(
    private readonly tenants: TenantsRepository,
    private readonly dns: DnsLookupHolder,
    @Inject(DATABASE) private readonly db: Database,
  ) {}

  @Get(':domain/readiness')
  async readiness(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('domain') domain: string,
  ): Promise<ReadinessReport> {
    if (!DOMAIN_NAME.test(domain)) throw new BadRequestException('not a domain name');
    const name = domain.toLowerCase();
    const facts = await loadTenantFacts(this.db.session, tenantId, name);
    return checkReadiness(name, this.dns.lookup, facts);
  }
}
