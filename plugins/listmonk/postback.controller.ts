/**
 * POST /v1/inbound/listmonk: listmonk's HTTP postback messenger. The core has checked the
 * Basic login (it names the integration and with it the tenant) before reading the body.
 * The whole payload is checked first; then each recipient's message is composed and handed
 * to Intake in turn. The answer is 200 only once every one is spooled, because listmonk
 * counts anything else as a failed send (and its retry is recognised by idempotency key).
 */
import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBody, ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { INTAKE, inboundIntegration, PLATFORM_META, type Intake } from '../../src/plugin/contract';
import { RelayError } from '../../src/plugin/relay-error';
import { composeMessage } from './compose';
import { rootOf, type ListmonkSettings } from './listmonk.settings';
import { parsePostback } from './postback-payload';

export const LISTMONK_INBOUND_PATH = '/v1/inbound/listmonk';

@ApiExcludeController()
@Controller()
export class ListmonkPostbackController {
  constructor(@Inject(INTAKE) private readonly intake: Intake) {}

  @Post(LISTMONK_INBOUND_PATH.slice(1))
  @HttpCode(200)
  @ApiBody({ schema: { type: 'object' } })
  async postback(@Req() req: Request, @Body() body: unknown) {
    // The core checked the Basic login before reading the body (src/integrations/inbound-login.ts).
    const integration = inboundIntegration(req);
    if (!integration || integration.platform !== 'listmonk') {
      throw new RelayError('unauthorized', 'the postback was not authenticated');
    }
    const settings = integration.settings as ListmonkSettings;
    try {
      return { accepted: await this.handOver(integration, settings, body, req.ip) };
    } catch (e) {
      // accept() recorded its own refusals; this records a payload that did not parse.
      this.intake.refused(
        { tenantId: integration.tenantId, source: 'listmonk', remoteAddress: req.ip },
        e,
      );
      throw e;
    }
  }

  private async handOver(
    integration: NonNullable<ReturnType<typeof inboundIntegration>>,
    settings: ListmonkSettings,
    body: unknown,
    remoteAddress: string | undefined,
  ) {
    const postback = parsePostback(body);
    const accepted = [];
    for (const recipient of postback.recipients) {
      const m = await composeMessage(postback, recipient, rootOf(settings));
      const a = await this.intake.accept({
        tenantId: integration.tenantId,
        envelope: { from: m.envelopeFrom, to: [m.recipient.email] },
        raw: m.raw,
        source: 'listmonk',
        idempotencyKey: m.idempotencyKey,
        remoteAddress,
        meta: {
          [PLATFORM_META]: 'listmonk',
          integrationId: integration.id,
          subscriberUuid: m.recipient.uuid,
          ...(postback.campaign ? { campaignUuid: postback.campaign.uuid } : {}),
        },
      });
      accepted.push({ email: m.recipient.email, messageId: a.messageId, duplicate: a.duplicate });
    }
    return accepted;
  }
}
