import { NotFoundException } from '@nestjs/common';
import { requireTenantAccess, type Principal } from '../common/auth';
import type { Tenant, TenantsRepository } from './tenants.repository';

/**
 * The tenant a route is about, if the caller may see it: the operator sees every tenant, a
 * tenant key only its own; anything else is 404, so ids cannot be probed.
 */
export async function visibleTenant(
  tenants: TenantsRepository,
  caller: Principal,
  tenantId: string,
): Promise<Tenant> {
  requireTenantAccess(caller, tenantId);
  const tenant = await tenants.find(tenantId);
  if (!tenant) throw new NotFoundException('no such tenant');
  return tenant;
}
