/**
 * The short one-click unsubscribe links (see unsubscribe-links.ts). Public: the token is the
 * credential. `POST /u/:token` is RFC 8058's one-click request, forwarded to the platform's
 * own link through the egress guard (PLATFORM_ALLOW_PRIVATE lets it reach a platform on a
 * private network); `GET /u/:token` sends a reader who clicks the link to the platform's page.
 */
import { Controller, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Environment } from '../config/environment';
import { ENVIRONMENT } from '../config/tokens';
import { RelayError } from '../plugin/relay-error';
import { guardedRequest } from '../egress/guarded-request';
import { UnsubscribeLinks } from './unsubscribe-links';

const ONE_CLICK_BODY = 'List-Unsubscribe=One-Click';

@ApiExcludeController()
@Controller('u')
export class UnsubscribeController {
  constructor(
    private readonly links: UnsubscribeLinks,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

  private async find(token: string) {
    const link = await this.links.target(token);
    if (!link) throw new RelayError('not_found', 'no such unsubscribe link');
    return link;
  }

  @Get(':token')
  async open(@Param('token') token: string, @Res() res: Response): Promise<void> {
    const { target } = await this.find(token);
    res.setHeader('cache-control', 'no-store');
    res.redirect(302, target);
  }

  @Post(':token')
  @HttpCode(200)
  async oneClick(@Param('token') token: string): Promise<{ unsubscribed: true }> {
    const { target } = await this.find(token);
    const answer = await guardedRequest({
      url: target,
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'smime-relay',
      },
      body: Buffer.from(ONE_CLICK_BODY),
      timeoutMs: 15_000,
      maxBytes: 4096,
      allowPrivate: this.env.PLATFORM_ALLOW_PRIVATE,
    });
    if (answer.status === null || answer.status >= 400) {
      const why = answer.status === null ? answer.error : `it answered ${answer.status}`;
      throw new RelayError('delivery_deferred', `the list's unsubscribe link failed: ${why}`);
    }
    return { unsubscribed: true };
  }
}
