/**
 * /v1/tenants/:tenantId/certificates: upload (PKCS#12 or PEM, as JSON), list, read and
 * remove. Responses carry metadata only, never key material.
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
  Post,
  UploadedFile,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import { RelayError } from '../plugin/relay-error';
import type { IdentityInput } from '../smime';
import { TenantsRepository } from '../tenants/tenants.repository';
import { CertificateStore } from './certificate-store';
import { Metrics } from '../health/metrics';
import { isRelayError } from '../plugin/relay-error';
import { custodyOf } from './keys.controller';

const MAX_FIELD = 256 * 1024;

export class UploadCertificateDto {
  /** A PKCS#12 (.p12/.pfx) file, base64. */
  @ApiPropertyOptional({ description: 'A PKCS#12 (.p12/.pfx) file, base64' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD)
  pkcs12?: string;
  /** A PEM certificate (with privateKey), instead of pkcs12. */
  @ApiPropertyOptional({ description: 'PEM certificate (with privateKey), instead of pkcs12' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD)
  certificate?: string;
  @ApiPropertyOptional({ description: 'PEM private key' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD)
  privateKey?: string;
  @ApiPropertyOptional({ description: 'PEM intermediate certificates' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD)
  chain?: string;
  @ApiPropertyOptional({ description: 'Password of the PKCS#12 file or encrypted key' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;
  @ApiPropertyOptional({
    description:
      'Where the key is, instead of privateKey: {custody: "pkcs11", module, tokenLabel|slot, keyLabel|keyId, pin} or {custody: "aws-kms", region, keyId, accessKeyId, secretAccessKey, endpoint?}',
  })
  @IsOptional()
  custody?: unknown;
}

/** What multer hands over for the `file` field of a multipart upload. */
interface UploadedCertificateFile {
  buffer: Buffer;
  originalname: string;
}

function identityInput(body: UploadCertificateDto, file?: UploadedCertificateFile): IdentityInput {
  if (file) {
    if (body.pkcs12 !== undefined || body.certificate !== undefined) {
      throw new RelayError(
        'invalid_request',
        'send the certificate either as a file or in fields, not both',
      );
    }
    // A PEM file holds the certificate and key (and maybe the chain); anything else is PKCS#12.
    const text = file.buffer.toString('latin1');
    return text.includes('-----BEGIN')
      ? {
          certificate: text,
          privateKey: /PRIVATE KEY-----/.test(text) ? text : body.privateKey,
          chain: body.chain,
          password: body.password,
        }
      : { pkcs12: file.buffer, password: body.password };
  }
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
@UseGuards(BearerGuard, TenantScope)
export class CertificatesController {
  constructor(
    private readonly store: CertificateStore,
    private readonly tenants: TenantsRepository,
    private readonly metrics: Metrics,
  ) {}

  /** JSON, or multipart/form-data with a `file` (.p12/.pfx/.pem) and a `password` field. */
  @Post()
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: MAX_FIELD, files: 1 } }))
  async upload(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Body() body: UploadCertificateDto,
    @UploadedFile() file?: UploadedCertificateFile,
  ) {
    try {
      const stored =
        body.custody !== undefined && body.custody !== 'sealed'
          ? await this.addInCustody(caller, tenantId, body, file)
          : await this.store.add(tenantId, identityInput(body, file));
      this.metrics.certificateUploads.inc({ result: 'stored' });
      return stored;
    } catch (e) {
      if (isRelayError(e)) this.metrics.certificateUploads.inc({ result: e.code });
      throw e;
    }
  }

  /** A certificate (and chain) whose key stays in an HSM or KMS. */
  private async addInCustody(
    caller: Principal,
    tenantId: string,
    body: UploadCertificateDto,
    file?: UploadedCertificateFile,
  ) {
    if (body.pkcs12 !== undefined || body.privateKey !== undefined) {
      throw new RelayError(
        'invalid_request',
        'a key in a custody is not uploaded: send the certificate (and chain) without pkcs12 or privateKey',
      );
    }
    const certificate = file ? file.buffer : body.certificate;
    if (certificate === undefined) {
      throw new RelayError('invalid_request', 'send the certificate (PEM) with its custody');
    }
    const custody = await custodyOf(body.custody, true, caller);
    if (custody.custody === 'sealed') throw new RelayError('invalid_request', 'unreachable');
    return this.store.addInCustody(tenantId, { certificate, chain: body.chain }, custody);
  }

  @Get()
  async list(@Caller() caller: Principal, @Param('tenantId') tenantId: string) {
    return this.store.list(tenantId);
  }

  @Get(':certificateId')
  async get(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('certificateId') id: string,
  ) {
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
    if (!(await this.store.remove(tenantId, id)))
      throw new NotFoundException('no such certificate');
  }
}
