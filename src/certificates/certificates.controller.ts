/**
 * /v1/tenants/:tenantId/certificates: upload (PKCS#12 or PEM, as JSON), list, read and
 * remove. Responses carry metadata only, never key material.
 */
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
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { BearerGuard, Caller, requireTenantAccess, type Principal } from '../common/auth';
import { RelayError } from '../plugin/relay-error';
import type { IdentityInput } from '../smime';
import { TenantsRepository } from '../tenants/tenants.repository';
import { CertificateStore } from './certificate-store';

const MAX_FIELD = 256 * 1024;

export class UploadCertificateDto {
  /** A PKCS#12 (.p12/.pfx) file, base64. */
  @IsOptional() @IsString() @MaxLength(MAX_FIELD) pkcs12?: string;
  /** A PEM certificate (with privateKey), instead of pkcs12. */
  @IsOptional() @IsString() @MaxLength(MAX_FIELD) certificate?: string;
  @IsOptional() @IsString() @MaxLength(MAX_FIELD) privateKey?: string;
  @IsOptional() @IsString() @MaxLength(MAX_FIELD) chain?: string;
  @IsOptional() @IsString() @MaxLength(1024) password?: string;
}

function identityInput(body: UploadCertificateDto): IdentityInput {
  if ((body.pkcs12 === undefined) === (body.certificate === undefined)) {
    throw new RelayError(
      'invalid_request',
      'send either pkcs12 (base64) or certificate and privateKey (PEM)',
    );
  }
  if (body.pkcs12 !== undefined) {
    if (!/^[A-Za-z0-9+/=\s]+$/.test(body.pkcs12))
      throw new RelayError('invalid_request', 'pkcs12 must be base64');
    return { pkcs12: Buffer.from(body.pkcs12, 'base64'), password: body.password };
  }
  return {
    certificate: body.certificate as string,
    privateKey: body.privateKey,
    chain: body.chain,
    password: body.password,
  };
}

@Controller('v1/tenants/:tenantId/certificates')
@UseGuards(BearerGuard)
export class CertificatesController {
  constructor(
    private readonly store: CertificateStore,
    private readonly tenants: TenantsRepository,
  ) {}

  private async tenant(caller: Principal, tenantId: string): Promise<void> {
    requireTenantAccess(caller, tenantId);
    if (!(await this.tenants.find(tenantId))) throw new NotFoundException('no such tenant');
  }

  @Post()
  async upload(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Body() body: UploadCertificateDto,
  ) {
    await this.tenant(caller, tenantId);
    return this.store.add(tenantId, identityInput(body));
  }

  @Get()
  async list(@Caller() caller: Principal, @Param('tenantId') tenantId: string) {
    await this.tenant(caller, tenantId);
    return this.store.list(tenantId);
  }

  @Get(':certificateId')
  async get(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('certificateId') id: string,
  ) {
    await this.tenant(caller, tenantId);
    const found = await this.store.get(tenantId, id);
    if (!found) throw new NotFoundException('no such certificate');
    return found;
  }

  @Delete(':certificateId')
  @HttpCode(204)
  async remove(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('certificateId') id: string,
  ) {
    await this.tenant(caller, tenantId);
    if (!(await this.store.remove(tenantId, id)))
      throw new NotFoundException('no such certificate');
  }
}
