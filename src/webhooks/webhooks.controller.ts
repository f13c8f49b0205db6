/**
 * /v1/tenants/:tenantId/webhooks: subscriptions, their secrets (shown on creation and on
 * rotation only), a test call, and the delivery log.
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
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import { TenantsRepository } from '../tenants/tenants.repository';
import { ENVIRONMENT } from '../config/tokens';
import type { Environment } from '../config/environment';
import { RelayError } from '../plugin/relay-error';
import { Subscriptions, type Subscription } from './subscriptions';
import { CreateWebhookDto, ListDeliveriesQuery, UpdateWebhookDto } from './webhooks.dto';
import { checkUrl, EgressRefused } from '../egress/egress-guard';
import { classifyWebhookResponse, sendWebhook } from './webhook-sender';
import { TEST_EVENT } from '../events/event-types';

const view = (s: Subscription) => ({
  id: s.id,
  url: s.url,
  events: s.events,
  description: s.description,
  enabled: s.enabled,
  disabledReason: s.disabledReason,
  consecutiveFailures: s.consecutiveFailures,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

@Controller('v1/tenants/:tenantId/webhooks')
@UseGuards(BearerGuard, TenantScope)
export class WebhooksController {
  constructor(
    private readonly subscriptions: Subscriptions,
    private readonly tenants: TenantsRepository,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

  private async found(tenantId: string, id: string): Promise<Subscription> {
    const s = await this.subscriptions.get(tenantId, id);
    if (!s) throw new NotFoundException('no such webhook');
    return s;
  }

  /** Refuse URLs the egress guard would refuse at delivery. */
  private async checkUrl(url: string): Promise<void> {
    try {
      await checkUrl(url, { allowPrivate: this.env.WEBHOOK_ALLOW_PRIVATE });
    } catch (e) {
      if (e instanceof EgressRefused) throw new RelayError('invalid_request', e.message);
      throw e;
    }
  }

  @Post()
  async create(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Body() body: CreateWebhookDto,
  ) {
    await this.checkUrl(body.url);
    const { subscription, secret } = await this.subscriptions.create(tenantId, body);
    return { ...view(subscription), secret };
  }

  @Get()
  async list(@Caller() caller: Principal, @Param('tenantId') tenantId: string) {
    return (await this.subscriptions.list(tenantId)).map(view);
  }

  @Get(':webhookId')
  async get(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('webhookId') id: string,
  ) {
    return view(await this.found(tenantId, id));
  }

  @Patch(':webhookId')
  async update(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('webhookId') id: string,
    @Body() body: UpdateWebhookDto,
  ) {
    if (body.url !== undefined) await this.checkUrl(body.url);
    const updated = await this.subscriptions.update(tenantId, id, body);
    if (!updated) throw new NotFoundException('no such webhook');
    return view(updated);
  }

  @Delete(':webhookId')
  @HttpCode(204)
  async remove(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('webhookId') id: string,
  ): Promise<void> {
    if (!(await this.subscriptions.remove(tenantId, id))) {
      throw new NotFoundException('no such webhook');
    }
  }

  @Post(':webhookId/rotate-secret')
  @HttpCode(200)
  async rotate(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('webhookId') id: string,
  ) {
    const secret = await this.subscriptions.rotateSecret(tenantId, id);
    if (!secret) throw new NotFoundException('no such webhook');
    return { id, secret };
  }

  /** Send a `webhook.test` event now; a success enables a disabled subscription again. */
  @Post(':webhookId/test')
  @HttpCode(200)
  async test(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('webhookId') id: string,
  ) {
    await this.found(tenantId, id);
    const sub = (await this.subscriptions.forDelivery(id))!;
    const eventId = randomUUID();
    const timestamp = new Date();
    const payload = JSON.stringify({
      type: TEST_EVENT,
      timestamp: timestamp.toISOString(),
      data: { tenantId, webhookId: id },
    });
    const response = await sendWebhook({
      url: sub.url,
      secret: sub.secret,
      id: eventId,
      timestamp,
      payload,
      timeoutMs: this.env.WEBHOOK_TIMEOUT_SECONDS * 1000,
      allowPrivate: this.env.WEBHOOK_ALLOW_PRIVATE,
    });
    const outcome = classifyWebhookResponse(response);
    await this.subscriptions.recordAttempt(
      id,
      {
        eventId,
        eventType: TEST_EVENT,
        attempt: 1,
        status: response.status,
        latencyMs: response.latencyMs,
        excerpt: response.excerpt,
        error: response.error,
      },
      outcome,
      true,
    );
    const after = await this.found(tenantId, id);
    return {
      ok: outcome === 'success',
      eventId,
      status: response.status,
      latencyMs: response.latencyMs,
      response: response.excerpt,
      error: response.error ?? null,
      enabled: after.enabled,
    };
  }

  @Get(':webhookId/deliveries')
  async deliveries(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('webhookId') id: string,
    @Query() query: ListDeliveriesQuery,
  ) {
    await this.found(tenantId, id);
    return this.subscriptions.deliveries(tenantId, id, query.limit ?? 50);
  }
}
