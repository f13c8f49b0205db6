/**
 * GET /v1/about (any caller): who is asking, the version, the public URL, where SMTP
 * submission listens, which delivery transports and webhook events exist, so the console
 * can show ready-to-paste settings and its forms. GET /v1/overview (operator): the dashboard figures.
 */
import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { BearerGuard, Caller, requireOperator, type Principal } from '../common/auth';
import type { Environment } from '../config/environment';
import { ENVIRONMENT } from '../config/tokens';
import { TransportRegistry } from '../plugin/contract';
import { EVENT_TYPES } from '../events/event-types';
import { publicUrl, serviceVersion, type SmtpEndpoint } from './console-facts';
import { OverviewRepository } from './overview.repository';

export const SMTP_ENDPOINT = Symbol('SmtpEndpoint');

@Controller('v1')
@UseGuards(BearerGuard)
export class AboutController {
  private readonly version = serviceVersion();

  constructor(
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @Inject(SMTP_ENDPOINT) private readonly smtp: SmtpEndpoint,
    private readonly transports: TransportRegistry,
    private readonly overview: OverviewRepository,
  ) {}

  @Get('about')
  about(@Caller() caller: Principal) {
    return {
      caller: caller.kind === 'tenant' ? { kind: 'tenant', tenantId: caller.tenantId } : caller,
      version: this.version,
      publicUrl: publicUrl(this.env),
      smtp: this.smtp,
      transports: this.transports.ids(),
      /** Each transport's settings fields, for the console's forms. */
      transportFields: this.transports.fields(),
      /** The PKCS#11 libraries a key may be reached through (PKCS11_MODULES). */
      pkcs11Modules: this.env.PKCS11_MODULES,
      webhookEvents: EVENT_TYPES,
    };
  }

  @Get('overview')
  read(@Caller() caller: Principal) {
    requireOperator(caller);
    return this.overview.read();
  }
}
