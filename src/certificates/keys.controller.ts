/**
 * /v1/tenants/:tenantId/keys: keys born in the relay. POST makes a key in a custody and
 * answers with its CSR; POST …/:keyId/csr makes a new CSR for the same key (renewal);
 * POST …/:keyId/certificate attaches the issued certificate; DELETE forgets the key.
 * Answers never carry key material, a PIN or a secret access key.
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
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import { TenantScope } from '../tenants/tenant-scope';
import { RelayError } from '../plugin/relay-error';
import { validated } from '../common/settings-fields';
import { CUSTODIES } from '../custody/custody';
import { KEY_SPECS, type KeySpec, type RemoteCustody } from '../custody/key-custody';
import { SigningKeys } from './signing-keys';
import type { CsrSubject } from '../custody/csr';

const TEXT = 128;

export class CsrSubjectDto implements CsrSubject {
  @IsOptional() @IsString() @MaxLength(TEXT) commonName?: string;
  @IsOptional() @IsString() @MaxLength(TEXT) organizationName?: string;
  @IsOptional() @IsString() @MaxLength(TEXT) organizationalUnitName?: string;
  @IsOptional() @IsString() @MaxLength(TEXT) localityName?: string;
  @IsOptional() @IsString() @MaxLength(TEXT) stateOrProvinceName?: string;
  @IsOptional()
  @Matches(/^[A-Z]{2}$/, { message: 'countryName must be two capital letters (ISO 3166)' })
  countryName?: string;
  @IsOptional() @IsString() @MaxLength(TEXT) givenName?: string;
  @IsOptional() @IsString() @MaxLength(TEXT) surname?: string;
}

/** A key on a PKCS#11 token: the library (one the operator allows), the token, the PIN. */
export class Pkcs11CustodyDto {
  @IsIn(['pkcs11']) custody!: 'pkcs11';
  @IsString() @MaxLength(1024) module!: string;
  @IsOptional() @IsString() @MaxLength(32) tokenLabel?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) slot?: number;
  @IsOptional() @IsString() @MaxLength(256) keyLabel?: string;
  @IsOptional()
  @Matches(/^[0-9a-fA-F]{2,128}$/, { message: 'keyId must be hex (the key’s CKA_ID)' })
  keyId?: string;
  @IsString() @MinLength(1) @MaxLength(256) pin!: string;
}

/** A key in AWS KMS: the region, the key (for an existing one) and the credentials. */
export class AwsKmsCustodyDto {
  @IsIn(['aws-kms']) custody!: 'aws-kms';
  @Matches(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, {
    message: 'region must be an AWS region such as eu-west-1',
  })
  region!: string;
  @IsOptional() @IsString() @MaxLength(2048) keyId?: string;
  @Matches(/^\w{16,128}$/, { message: 'accessKeyId must be an AWS access key id (AKIA…)' })
  accessKeyId!: string;
  @IsString() @MinLength(1) @MaxLength(256) secretAccessKey!: string;
  @IsOptional() @IsString() @MaxLength(4096) sessionToken?: string;
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'endpoint must be an http(s) URL' })
  @MaxLength(2048)
  endpoint?: string;
}

/** `custody` of a request: `sealed`, or the settings of a PKCS#11 or KMS custody. */
export async function custodyOf(
  value: unknown,
  needKey: boolean,
  caller: Principal,
): Promise<{ custody: 'sealed' } | RemoteCustody> {
  // A multipart upload sends the custody as a JSON text field.
  if (typeof value === 'string' && value.trim().startsWith('{')) {
    try {
      value = JSON.parse(value);
    } catch {
      throw new RelayError('invalid_request', 'custody is not valid JSON');
    }
  }
  const type =
    typeof value === 'string' ? value : (value as { custody?: unknown } | undefined)?.custody;
  if (type === 'sealed') return { custody: 'sealed' };
  if (type === 'pkcs11') {
    const s = await validated(Pkcs11CustodyDto, value);
    if (s.tokenLabel === undefined && s.slot === undefined) {
      throw new RelayError('invalid_request', 'custody needs tokenLabel or slot');
    }
    if (needKey && s.keyLabel === undefined && s.keyId === undefined) {
      throw new RelayError('invalid_request', 'custody needs keyLabel or keyId');
    }
    return { ...s };
  }
  if (type === 'aws-kms') {
    const s = await validated(AwsKmsCustodyDto, value);
    if (needKey && !s.keyId) throw new RelayError('invalid_request', 'custody needs keyId');
    // Another endpoint than KMS's own (a VPC endpoint, a proxy) is the operator's to set,
    // as a provider's API root is.
    if (s.endpoint !== undefined && caller.kind !== 'operator') {
      throw new RelayError('invalid_request', 'only the operator may set custody.endpoint');
    }
    return { ...s, keyId: s.keyId ?? '' };
  }
  throw new RelayError(
    'invalid_request',
    `custody must be one of: ${CUSTODIES.join(', ')} (an object with "custody" for pkcs11 and aws-kms)`,
  );
}

export class CreateKeyDto {
  @ApiProperty({
    description:
      '"sealed", or {custody: "pkcs11", module, tokenLabel|slot, pin} or {custody: "aws-kms", region, accessKeyId, secretAccessKey, endpoint?}',
  })
  @Allow()
  custody!: unknown;

  @ApiProperty({ enum: KEY_SPECS })
  @IsIn(KEY_SPECS)
  spec!: KeySpec;

  @ApiProperty({ type: [String] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(320, { each: true })
  emailAddresses!: string[];

  @ApiPropertyOptional({ type: CsrSubjectDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => CsrSubjectDto)
  subject?: CsrSubjectDto;
}

export class RenewKeyDto {
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(320, { each: true })
  emailAddresses?: string[];

  @ApiPropertyOptional({ type: CsrSubjectDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => CsrSubjectDto)
  subject?: CsrSubjectDto;
}

export class AttachCertificateDto {
  @ApiProperty({ description: 'The issued certificate: PEM, or a PKCS#7 bundle (PEM or base64)' })
  @IsString()
  @MaxLength(256 * 1024)
  certificate!: string;

  @ApiPropertyOptional({ description: 'Intermediate certificates, PEM or PKCS#7' })
  @IsOptional()
  @IsString()
  @MaxLength(256 * 1024)
  chain?: string;
}

@Controller('v1/tenants/:tenantId/keys')
@UseGuards(BearerGuard, TenantScope)
export class KeysController {
  constructor(private readonly keys: SigningKeys) {}

  @Post()
  async create(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Body() body: CreateKeyDto,
  ) {
    const custody = await custodyOf(body.custody, false, caller);
    if (custody.custody === 'pkcs11' && (custody.keyLabel || custody.keyId)) {
      throw new RelayError(
        'invalid_request',
        'a new key gets its own label and id: leave keyLabel and keyId out',
      );
    }
    return this.keys.create(tenantId, {
      custody,
      spec: body.spec,
      emailAddresses: body.emailAddresses,
      subject: body.subject,
    });
  }

  @Get()
  list(@Param('tenantId') tenantId: string) {
    return this.keys.list(tenantId);
  }

  @Get(':keyId')
  async get(@Param('tenantId') tenantId: string, @Param('keyId') keyId: string) {
    const key = await this.keys.get(tenantId, keyId);
    if (!key) throw new NotFoundException('no such key');
    return key;
  }

  @Post(':keyId/csr')
  @HttpCode(200)
  renew(
    @Param('tenantId') tenantId: string,
    @Param('keyId') keyId: string,
    @Body() body: RenewKeyDto,
  ) {
    return this.keys.renew(tenantId, keyId, body);
  }

  @Post(':keyId/certificate')
  attach(
    @Param('tenantId') tenantId: string,
    @Param('keyId') keyId: string,
    @Body() body: AttachCertificateDto,
  ) {
    return this.keys.attach(tenantId, keyId, body);
  }

  @Delete(':keyId')
  @HttpCode(204)
  async remove(@Param('tenantId') tenantId: string, @Param('keyId') keyId: string) {
    if (!(await this.keys.remove(tenantId, keyId))) throw new NotFoundException('no such key');
  }
}
