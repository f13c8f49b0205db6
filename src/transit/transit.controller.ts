/**
 * /v1/tenants/:tenantId/transit-check (the seed mailbox and schedule) and
 * /v1/tenants/:tenantId/transit-checks (start a check, read past ones). The operator or the
 * tenant itself; another tenant gets 404.
 */
import { TenantScope } from '../tenants/tenant-scope';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
  UseGuards,
} from '@nestjs/common';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import type { Environment } from '../config/environment';
import { ENVIRONMENT } from '../config/tokens';
import { RelayError } from '../plugin/relay-error';
import { TenantsRepository } from '../tenants/tenants.repository';
import { checkSeedMailbox, SeedMailboxError } from './seed-mailbox';
import { TransitChecks } from './transit-checks';
import { TransitCheckSettings, TransitSettingsStore } from './transit-settings';

@Controller('v1/tenants/:tenantId')
@UseGuards(BearerGuard, TenantScope)
export class TransitController {
  constructor(
    private readonly settings: TransitSettingsStore,
    private readonly checks: TransitChecks,
    private readonly tenants: TenantsRepository,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

  /** Saves the seed mailbox once it can be opened with these settings. */
  @Put('transit-check')
  async put(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Body() body: TransitCheckSettings,
  ) {
    const settings = await this.settings.withStoredSecrets(tenantId, body);
    try {
      await checkSeedMailbox(settings.imap, {
        allowPrivate: this.env.IMAP_ALLOW_PRIVATE,
        timeoutMs: 15_000,
      });
    } catch (e) {
      if (e instanceof SeedMailboxError) throw new RelayError('invalid_request', e.message);
      throw e;
    }
    await this.settings.save(tenantId, settings);
    return this.settings.view(tenantId);
  }

  @Get('transit-check')
  async get(@Caller() caller: Principal, @Param('tenantId') tenantId: string) {
    const v = await this.settings.view(tenantId);
    if (!v) throw new NotFoundException('no transit-check settings for this tenant');
    return v;
  }

  @Delete('transit-check')
  @HttpCode(204)
  async remove(@Caller() caller: Principal, @Param('tenantId') tenantId: string): Promise<void> {
    if (!(await this.settings.remove(tenantId))) {
      throw new NotFoundException('no transit-check settings for this tenant');
    }
  }

  /** Starts a check now; 202 with the check (state `running`), its report follows. */
  @Post('transit-checks')
  @HttpCode(202)
  async start(@Caller() caller: Principal, @Param('tenantId') tenantId: string) {
    return this.checks.start(tenantId, 'api');
  }

  @Get('transit-checks')
  async list(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Query('limit') limit?: string,
  ) {
    const n = limit === undefined ? 20 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 100) {
      throw new RelayError('invalid_request', 'limit must be a whole number from 1 to 100');
    }
    return this.checks.list(tenantId, n);
  }

  @Get('transit-checks/:checkId')
  async one(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('checkId') checkId: string,
  ) {
    const check = await this.checks.get(tenantId, checkId);
    if (!check) throw new NotFoundException('no such transit check');
    return check;
  }
}
