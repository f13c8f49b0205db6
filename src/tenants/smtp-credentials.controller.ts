/**
 * /v1/tenants/:tenantId/smtp-credentials: usernames and passwords for SMTP submission. The
 * password is in the creation response only.
 */
import { TenantScope } from './tenant-scope';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import { CreateApiKeyDto } from './tenants.dto';
import { TenantsRepository } from './tenants.repository';
import { SmtpCredentials, type SmtpCredentialRecord } from './smtp-credentials';

const view = (c: SmtpCredentialRecord) => ({
  id: c.id,
  username: c.username,
  label: c.label,
  createdAt: c.createdAt.toISOString(),
  revokedAt: c.revokedAt?.toISOString() ?? null,
});

@Controller('v1/tenants/:tenantId/smtp-credentials')
@UseGuards(BearerGuard, TenantScope)
export class SmtpCredentialsController {
  constructor(
    private readonly credentials: SmtpCredentials,
    private readonly tenants: TenantsRepository,
  ) {}

  /** A tenant key may create its own credentials: that is how a platform is connected. */
  @Post()
  async create(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Body() body: CreateApiKeyDto,
  ) {
    const created = await this.credentials.create(tenantId, body.label);
    return { ...view(created), password: created.password };
  }

  @Get()
  async list(@Caller() caller: Principal, @Param('tenantId') tenantId: string) {
    return (await this.credentials.list(tenantId)).map(view);
  }

  @Delete(':credentialId')
  @HttpCode(204)
  async revoke(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('credentialId') credentialId: string,
  ): Promise<void> {
    if (!(await this.credentials.revoke(tenantId, credentialId)))
      throw new NotFoundException('no such SMTP credential');
  }
}
