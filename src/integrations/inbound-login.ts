/**
 * Basic auth for /v1/inbound/:platform, checked before the (large) JSON body is read: the
 * login must belong to an integration of that platform. The integration is handed to the
 * plugin's controller on the request; anything else is 401 with a Basic challenge.
 */
import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import {
  INBOUND_INTEGRATION,
  INTEGRATION_LOGINS,
  type IntegrationLogins,
} from '../plugin/contract';

function basicLogin(req: Request): { username: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0
    ? undefined
    : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

@Injectable()
export class InboundLogin implements NestMiddleware {
  private readonly log = new Logger('InboundLogin');

  constructor(@Inject(INTEGRATION_LOGINS) private readonly logins: IntegrationLogins) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    const platform = /^\/v1\/inbound\/([a-z0-9-]+)/.exec(req.originalUrl)?.[1] ?? '';
    const login = basicLogin(req);
    try {
      const integration =
        login && (await this.logins.find(platform, login.username, login.password));
      if (integration) {
        (req as unknown as Record<symbol, unknown>)[INBOUND_INTEGRATION] = integration;
        return next();
      }
    } catch (e) {
      // Database away or a key this process cannot open: the platform should try again.
      this.log.warn(`${platform} login could not be checked: ${(e as Error).message}`);
      res.status(503).json({
        error: { code: 'internal_error', message: 'the login could not be checked; try again' },
      });
      return;
    }
    res
      .status(401)
      .setHeader('WWW-Authenticate', `Basic realm="smime-relay ${platform}"`)
      .json({
        error: {
          code: 'unauthorized',
          message: `send the username and password of a ${platform} integration (Basic auth)`,
        },
      });
  }
}
