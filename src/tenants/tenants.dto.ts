import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export const SIGNING_POLICIES = ['require', 'prefer'] as const;
export type SigningPolicy = (typeof SIGNING_POLICIES)[number];

export class CreateTenantDto {
  @ApiProperty({ example: 'Example News' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  /** require (default): never send unsigned; prefer: send unsigned, and record it, when no certificate fits. */
  @ApiPropertyOptional({ enum: SIGNING_POLICIES, default: 'require' })
  @IsOptional()
  @IsIn(SIGNING_POLICIES)
  signingPolicy?: SigningPolicy;
}

export class UpdateTenantDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ enum: SIGNING_POLICIES })
  @IsOptional()
  @IsIn(SIGNING_POLICIES)
  signingPolicy?: SigningPolicy;
}

export class CreateApiKeyDto {
  @ApiPropertyOptional({ example: 'listmonk' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  label?: string;
}
