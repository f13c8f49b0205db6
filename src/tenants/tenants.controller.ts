/**
 * /v1/tenants: the operator manages tenants and their API keys; a tenant key can read its
 * own tenant and keys, and sees every other tenant as missing (404).
 */
import { ScopedTenant, TenantScope } from './tenant-scope';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import { BearerGuard, Caller, requireOperator, type Principal } from '../common/auth';
import { newApiKey } from '../common/api-key';
import { CreateApiKeyDto, CreateTenantDto, UpdateTenantDto } from './tenants.dto';
import { TenantsRepository, type Tenant } from './tenants.repository';
import { ApiKeysRepository, type ApiKeyRecord } from '../common/api-keys.repository';

const view = (t: Tenant) => ({
  id: t.id,
  name: t.name,
  signingPolicy: t.signingPolicy,
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
});

const keyView = (k: ApiKeyRecord) => ({
  id: k.id,
  prefix: k.prefix,
  label: k.label,
  createdAt: k.createdAt.toISOString(),
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

@Controller('v1/tenants')
@UseGuards(BearerGuard, TenantScope)
export class TenantsController {
  constructor(
    private readonly tenants: TenantsRepository,
    private readonly apiKeys: ApiKeysRepository,
  ) {}

  @Post()
  async create(@Caller() caller: Principal, @Body() body: CreateTenantDto) {
    requireOperator(caller);
    return view(await this.tenants.create(body.name, body.signingPolicy ?? 'require'));
  }

  @Get()
  async list(@Caller() caller: Principal) {
    if (caller.kind === 'tenant') {
      const own = await this.tenants.find(caller.tenantId);
      return own ? [view(own)] : [];
    }
    return (await this.tenants.list()).map(view);
  }

  @Get(':tenantId')
  get(@ScopedTenant() tenant: Tenant) {
    return view(tenant);
  }

  @Patch(':tenantId')
  async update(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Body() body: UpdateTenantDto,
  ) {
    requireOperator(caller);
    const updated = await this.tenants.update(tenantId, body);
    if (!updated) throw new NotFoundException('no such tenant');
    return view(updated);
  }

  @Delete(':tenantId')
  @HttpCode(204)
  async remove(@Caller() caller: Principal, @Param('tenantId') tenantId: string): Promise<void> {
    requireOperator(caller);
    await this.tenants.remove(tenantId);
  }

  /** The key is in this response only; afterwards only its prefix is known. */
  @Post(':tenantId/api-keys')
  async createKey(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Body() body: CreateApiKeyDto,
  ) {
    requireOperator(caller);
    const { key, hash, prefix } = newApiKey();
    const record = await this.apiKeys.add(tenantId, hash, prefix, body.label);
    return { ...keyView(record), key };
  }

  @Get(':tenantId/api-keys')
  async listKeys(@Caller() caller: Principal, @Param('tenantId') tenantId: string) {
    return (await this.apiKeys.list(tenantId)).map(keyView);
  }

  @Delete(':tenantId/api-keys/:keyId')
  @HttpCode(204)
  async revokeKey(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('keyId') keyId: string,
  ): Promise<void> {
    requireOperator(caller);
    if (!(await this.apiKeys.revoke(tenantId, keyId)))
      throw new NotFoundException('no such API key');
  }
}
