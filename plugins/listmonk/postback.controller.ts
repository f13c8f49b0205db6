/**
 * POST /v1/inbound/listmonk: listmonk's HTTP postback messenger. Basic auth with the
 * integration's login names the integration and with it the tenant. Each recipient's
 * message is composed and handed to Intake; the answer is 200 only once every one is
 * spooled, because listmonk counts anything else as a failed send.
 */
import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  INTAKE,
  INTEGRATION_LOGINS,
  PLATFORM_META,
  type Intake,
  type IntegrationLogins,
} from '../../src/plugin/contract';
import { RelayError } from '../../src/plugin/relay-error';
import { composeMessages } from './compose';
import { rootOf, type ListmonkSettings } from './listmonk.settings';
import { parsePostback } from './postback-payload';

export const LISTMONK_INBOUND_PATH = '/v1/inbound/listmonk';

function basicLogin(req: Request): { username: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0
    ? undefined
    : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

@ApiExcludeController()
@Controller()
export class ListmonkPostbackController {
  constructor(
    @Inject(INTAKE) private readonly intake: Intake,
    @Inject(INTEGRATION_LOGINS) private readonly logins: IntegrationLogins,
  ) {}

  @Post(LISTMONK_INBOUND_PATH.slice(1))
  @HttpCode(200)
  @ApiBody({ schema: { type: 'object' } })
  async postback(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Body() body: unknown,
  ) {
    const login = basicLogin(req);
    const integration =
      login && (await this.logins.find('listmonk', login.username, login.password));
    if (!integration) {
      res.setHeader('WWW-Authenticate', 'Basic realm="smime-relay listmonk postback"');
      throw new RelayError(
        'unauthorized',
        'listmonk must send the username and password of a listmonk integration (Settings → Messengers → Username/Password)',
      );
    }
    const settings = integration.settings as ListmonkSettings;
    const postback = parsePostback(body);
    const messages = await composeMessages(postback, rootOf(settings));
    const accepted = [];
    for (const m of messages) {
      const a = await this.intake.accept({
        tenantId: integration.tenantId,
        envelope: { from: m.envelopeFrom, to: [m.recipient.email] },
        raw: m.raw,
        source: 'listmonk',
        idempotencyKey: m.idempotencyKey,
        meta: {
          [PLATFORM_META]: 'listmonk',
          integrationId: integration.id,
          subscriberUuid: m.recipient.uuid,
          ...(postback.campaign ? { campaignUuid: postback.campaign.uuid } : {}),
        },
      });
      accepted.push({ email: m.recipient.email, messageId: a.messageId, duplicate: a.duplicate });
    }
    return { accepted };
  }
}
