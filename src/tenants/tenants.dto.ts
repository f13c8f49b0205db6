import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export const SIGNING_POLICIES = ['require', 'prefer'] as const;
export type SigningPolicy = (typeof SIGNING_POLICIES)[number];

export class CreateTenantDto {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  /** require (default): never send unsigned; prefer: send unsigned, and record it, when no certificate fits. */
  @IsOptional()
  @IsIn(SIGNING_POLICIES)
  signingPolicy?: SigningPolicy;
}

export class UpdateTenantDto {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @IsOptional()
  @IsIn(SIGNING_POLICIES)
  signingPolicy?: SigningPolicy;
}

export class CreateApiKeyDto {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  label?: string;
}
