/**
 * /v1/tenants/:tenantId/delivery: the tenant's upstream. PUT replaces it, GET shows it with
 * secrets redacted, POST …/verify checks that it works without sending mail.
 */
import { TenantScope } from '../tenants/tenant-scope';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  UseGuards,
} from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import { TenantsRepository } from '../tenants/tenants.repository';
import { RelayError } from '../plugin/relay-error';
import { DeliverySettings } from './delivery-settings';
import { describeDeliveryError } from './delivery-errors';

@Controller('v1/tenants/:tenantId/delivery')
@UseGuards(BearerGuard, TenantScope)
export class DeliverySettingsController {
  constructor(
    private readonly delivery: DeliverySettings,
    private readonly tenants: TenantsRepository,
  ) {}

  @Put()
  @ApiBody({
    description:
      '{transport: "smtp", host, port, secure, requireTLS, auth: {user, pass}}; a secret sent as "[redacted]" keeps its stored value',
    schema: { type: 'object' },
  })
  async put(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Body() body: Record<string, unknown>,
  ) {
    return this.delivery.put(tenantId, body ?? {}, caller.kind === 'operator');
  }

  @Get()
  async get(@Caller() caller: Principal, @Param('tenantId') tenantId: string) {
    const settings = await this.delivery.get(tenantId);
    if (!settings) throw new NotFoundException('no delivery settings; PUT them first');
    return settings;
  }

  /** {ok: true} when the upstream accepts the settings, else {ok: false, error}. */
  @Post('verify')
  @HttpCode(200)
  async verify(@Caller() caller: Principal, @Param('tenantId') tenantId: string) {
    const stored = await this.delivery.load(tenantId);
    if (!stored) throw new RelayError('delivery_not_configured', 'no delivery settings');
    const transport = this.delivery.transportFor(stored.transport);
    if (!transport.verify) return { ok: true, checked: false };
    try {
      await transport.verify(this.delivery.open(tenantId, stored));
      return { ok: true, checked: true };
    } catch (e) {
      return { ok: false, checked: true, error: describeDeliveryError(e) };
    }
  }
}
