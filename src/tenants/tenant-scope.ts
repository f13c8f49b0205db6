/**
 * The tenant a route is about, checked for every route with a `:tenantId` parameter: the
 * operator sees every tenant, a tenant key only its own; anything else is 404, so ids cannot
 * be probed. Used after BearerGuard, as `@UseGuards(BearerGuard, TenantScope)` on every
 * controller under /v1/tenants/:tenantId (test/architecture.test.ts checks that none is
 * without it); `@ScopedTenant()` hands the tenant to the route.
 */
import {
  createParamDecorator,
  Injectable,
  NotFoundException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { requireTenantAccess, type Principal } from '../common/auth';
import { TenantsRepository, type Tenant } from './tenants.repository';

interface ScopedRequest {
  params: Record<string, string | undefined>;
  user?: Principal;
  tenant?: Tenant;
}

@Injectable()
export class TenantScope implements CanActivate {
  constructor(private readonly tenants: TenantsRepository) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<ScopedRequest>();
    const id = req.params.tenantId;
    if (id === undefined) return true; // a route without a tenant (GET /v1/tenants)
    if (!req.user) return false;
    requireTenantAccess(req.user, id);
    const tenant = await this.tenants.find(id);
    if (!tenant) throw new NotFoundException('no such tenant');
    req.tenant = tenant;
    return true;
  }
}

/** The tenant TenantScope found for this request. */
export const ScopedTenant = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Tenant => ctx.switchToHttp().getRequest().tenant,
);
