/**
 * Who is calling: the operator (Authorization: Bearer $ADMIN_TOKEN, compared in constant
 * time) or a tenant (a tenant API key). Anything else gets 401. A tenant asking for another
 * tenant's resources gets 404, so ids cannot be probed.
 */
import {
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
  NotFoundException,
  ForbiddenException,
} from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Strategy } from 'passport-http-bearer';
import type { Request } from 'express';
import type { Environment } from '../config/environment';
import { ENVIRONMENT } from '../config/tokens';
import { API_KEY_PREFIX, hashApiKey } from './api-key';
import { ApiKeysRepository } from './api-keys.repository';

export type Principal = { kind: 'operator' } | { kind: 'tenant'; tenantId: string };

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  private readonly adminDigest?: Buffer;

  constructor(
    @Inject(ENVIRONMENT) env: Environment,
    private readonly apiKeys: ApiKeysRepository,
  ) {
    super();
    this.adminDigest = env.ADMIN_TOKEN ? digest(env.ADMIN_TOKEN) : undefined;
  }

  /**
   * passport-http-bearer also reads `access_token` from the query string and the body; a
   * token there ends up in access logs and browser history, so only the Authorization
   * header counts: the strategy sees a request without the other two.
   */
  override authenticate(req: Request, options?: object): void {
    const headerOnly = Object.create(req, {
      query: { value: {} },
      body: { value: undefined },
    }) as Request;
    super.authenticate(headerOnly, options);
  }

  async validate(token: string): Promise<Principal | false> {
    // Hashing first makes the comparison constant-time whatever the token's length.
    if (this.adminDigest && timingSafeEqual(digest(token), this.adminDigest)) {
      return { kind: 'operator' };
    }
    if (!token.startsWith(API_KEY_PREFIX)) return false;
    const tenantId = await this.apiKeys.tenantOf(hashApiKey(token));
    return tenantId ? { kind: 'tenant', tenantId } : false;
  }
}

/** Guard for every /v1 route. */
export const BearerGuard = AuthGuard('bearer');

export const Caller = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest().user,
);

/** 403 unless the caller is the operator. */
export function requireOperator(p: Principal): void {
  if (p.kind !== 'operator') throw new ForbiddenException('this needs the operator token');
}

/** 404 (not 403) when a tenant key reaches for another tenant, so ids cannot be probed. */
export function requireTenantAccess(p: Principal, tenantId: string): void {
  if (p.kind === 'tenant' && p.tenantId !== tenantId) throw new NotFoundException('no such tenant');
}
