/**
 * /v1/tenants/:tenantId/dkim: the tenant's DKIM key. PUT generates one (RSA-2048 by default,
 * or Ed25519) or imports a PEM key, and returns the DNS TXT record to publish; GET shows the
 * same, never the private key; DELETE removes it, and mail goes out without DKIM again.
 */
import { TenantScope } from '../tenants/tenant-scope';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Put,
  UseGuards,
} from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import { TenantsRepository } from '../tenants/tenants.repository';
import { DkimKeys } from './dkim-keys';

@Controller('v1/tenants/:tenantId/dkim')
@UseGuards(BearerGuard, TenantScope)
export class DkimController {
  constructor(
    private readonly dkim: DkimKeys,
    private readonly tenants: TenantsRepository,
  ) {}

  @Put()
  @ApiBody({
    description:
      '{domain, selector, keyType?: "rsa" | "ed25519", privateKey?: PEM}; without privateKey a key is generated',
    schema: { type: 'object' },
  })
  async put(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Body() body: Record<string, unknown>,
  ) {
    return this.dkim.put(tenantId, body ?? {});
  }

  @Get()
  async get(@Caller() caller: Principal, @Param('tenantId') tenantId: string) {
    const key = await this.dkim.get(tenantId);
    if (!key) throw new NotFoundException('no DKIM key; PUT one first');
    return key;
  }

  @Delete()
  @HttpCode(204)
  async remove(@Caller() caller: Principal, @Param('tenantId') tenantId: string) {
    if (!(await this.dkim.remove(tenantId))) throw new NotFoundException('no DKIM key');
  }
}
