/**
 * /v1/tenants/:tenantId/recipient-policy: the tenant's per-recipient-domain signing rules
 * (the operator or the tenant itself), and /v1/recipient-policy/presets: starter lists a
 * tenant can adopt.
 */
import { TenantScope } from './tenant-scope';
import { Body, Controller, Get, Param, Put, UseGuards } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { domainToASCII } from 'node:url';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import { RelayError } from '../plugin/relay-error';
import { TenantsRepository } from './tenants.repository';
import {
  RECIPIENT_PRESETS,
  RECIPIENT_SIGNING,
  type RecipientRule,
  type RecipientSigning,
} from './recipient-policy';

export class RecipientRuleDto {
  @ApiProperty({ enum: RECIPIENT_SIGNING })
  @IsIn(RECIPIENT_SIGNING)
  signing!: RecipientSigning;

  @ApiProperty({ example: ['docomo.ne.jp', 'ezweb.ne.jp'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(253, { each: true })
  domains!: string[];
}

export class RecipientPolicyDto {
  @ApiProperty({ type: [RecipientRuleDto] })
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => RecipientRuleDto)
  rules!: RecipientRuleDto[];
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A domain as stored: A-labels, lower case, no trailing dot; or why it is not one. */
function normalDomain(input: string): string {
  const ascii = domainToASCII(input.trim().replace(/\.$/, '')).toLowerCase();
  const labels = ascii.split('.');
  if (!ascii || labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    throw new RelayError(
      'invalid_request',
      `rules: "${input}" is not a domain name (write it as example.jp, without @ or wildcards)`,
    );
  }
  return ascii;
}

/** Checked and normalised rules: every domain once. */
export function normalRules(rules: RecipientRuleDto[]): RecipientRule[] {
  const seen = new Map<string, number>();
  return rules.map((rule, i) => ({
    signing: rule.signing,
    domains: rule.domains.map((d) => {
      const domain = normalDomain(d);
      const earlier = seen.get(domain);
      if (earlier !== undefined) {
        throw new RelayError(
          'invalid_request',
          `rules: ${domain} is listed twice (rules ${earlier + 1} and ${i + 1}); list each domain once`,
        );
      }
      seen.set(domain, i);
      return domain;
    }),
  }));
}

@Controller('v1')
@UseGuards(BearerGuard, TenantScope)
export class RecipientPolicyController {
  constructor(private readonly tenants: TenantsRepository) {}

  @Get('tenants/:tenantId/recipient-policy')
  async get(@Caller() caller: Principal, @Param('tenantId') tenantId: string) {
    return { rules: await this.tenants.recipientRules(tenantId) };
  }

  /** Replaces the rules; `{"rules": []}` signs every recipient alike again. */
  @Put('tenants/:tenantId/recipient-policy')
  async put(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Body() body: RecipientPolicyDto,
  ) {
    const rules = normalRules(body.rules);
    await this.tenants.setRecipientRules(tenantId, rules);
    return { rules };
  }

  @Get('recipient-policy/presets')
  presets() {
    return RECIPIENT_PRESETS;
  }
}
