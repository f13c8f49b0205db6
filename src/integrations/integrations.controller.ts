/**
 * /v1/tenants/:tenantId/integrations/:platform: a tenant's integrations with a marketing
 * platform (listmonk, Mautic). The body is the platform adapter's settings; secrets read
 * back as "[redacted]". A platform that calls the relay gets a login: its password and the
 * URL to call are in the creation response only (the URL also in every read).
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
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import { ENVIRONMENT } from '../config/tokens';
import { publicUrl, type Environment } from '../config/environment';
import { TenantsRepository } from '../tenants/tenants.repository';
import type { PlatformAdapter } from '../plugin/contract';
import { IntegrationStore, type IntegrationView } from './integration-store';
import { PlatformHttp } from './platform-http';
import { FeedbackSink } from './feedback-sink';
import { RelayError } from '../plugin/relay-error';

@Controller('v1/tenants/:tenantId/integrations/:platform')
@UseGuards(BearerGuard, TenantScope)
export class IntegrationsController {
  constructor(
    private readonly store: IntegrationStore,
    private readonly tenants: TenantsRepository,
    private readonly http: PlatformHttp,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    private readonly feedback: FeedbackSink,
  ) {}

  private async adapter(caller: Principal, tenantId: string, platform: string) {
    return this.store.adapterFor(platform);
  }

  private shown(adapter: PlatformAdapter, v: IntegrationView) {
    const inbound = adapter.inboundPath
      ? { postbackUrl: `${publicUrl(this.env)}${adapter.inboundPath}` }
      : {};
    return { ...v, createdAt: v.createdAt.toISOString(), ...inbound };
  }

  @Post()
  @ApiBody({
    description:
      'listmonk: {rootUrl, bounce?: {username, password}}; mautic: {baseUrl, credentials: {type: "basic", username, password} | {type: "oauth2", clientId, clientSecret}}',
    schema: { type: 'object' },
  })
  async create(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('platform') platform: string,
    @Body() body: Record<string, unknown>,
  ) {
    const adapter = await this.adapter(caller, tenantId, platform);
    const created = await this.store.create(tenantId, adapter, body, async (settings) => {
      for (const [field, url] of Object.entries(adapter.outboundUrls?.(settings) ?? {})) {
        await this.http.checkUrl(field, url);
      }
    });
    return this.shown(adapter, created);
  }

  @Get()
  async list(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('platform') platform: string,
  ) {
    const adapter = await this.adapter(caller, tenantId, platform);
    return (await this.store.list(tenantId, adapter)).map((v) => this.shown(adapter, v));
  }

  @Get(':integrationId')
  async get(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('platform') platform: string,
    @Param('integrationId') id: string,
  ) {
    const adapter = await this.adapter(caller, tenantId, platform);
    const found = await this.store.get(tenantId, adapter, id);
    if (!found) throw new NotFoundException('no such integration');
    return this.shown(adapter, found);
  }

  /** The feedback attempts to this integration, newest first (`?limit=`, 1–200, 50). */
  @Get(':integrationId/deliveries')
  async deliveries(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('platform') platform: string,
    @Param('integrationId') id: string,
    @Query('limit') limit?: string,
  ) {
    const adapter = await this.adapter(caller, tenantId, platform);
    if (!(await this.store.get(tenantId, adapter, id))) {
      throw new NotFoundException('no such integration');
    }
    const n = limit === undefined ? 50 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 200) {
      throw new RelayError('invalid_request', 'limit must be a whole number from 1 to 200');
    }
    return this.feedback.attempts(id, n);
  }

  @Delete(':integrationId')
  @HttpCode(204)
  async remove(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('platform') platform: string,
    @Param('integrationId') id: string,
  ): Promise<void> {
    await this.adapter(caller, tenantId, platform);
    if (!(await this.store.delete(tenantId, platform, id))) {
      throw new NotFoundException('no such integration');
    }
  }
}
