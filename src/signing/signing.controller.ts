/**
 * Try signing before any mail flows: POST /v1/tenants/:tenantId/sign signs a raw message
 * (Content-Type: message/rfc822) with the identity the relay would use for its From:, and
 * POST /v1/verify returns the verification report of a signed message.
 */
import { TenantScope } from '../tenants/tenant-scope';
import { uncoveredFrom, validNow } from '../certificates/uncovered-from';
import {
  Body,
  Controller,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import { CertificateStore } from '../certificates/certificate-store';
import { RelayError } from '../plugin/relay-error';
import { fromAddressOf, signMessage, verifyMessage } from '../smime';
import { TenantsRepository } from '../tenants/tenants.repository';
import { Metrics } from '../health/metrics';

function rawMessage(body: unknown): Buffer {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new RelayError(
      'invalid_request',
      'send the message as the body with Content-Type: message/rfc822',
    );
  }
  return body;
}

@Controller('v1')
@UseGuards(BearerGuard, TenantScope)
export class SigningController {
  constructor(
    private readonly store: CertificateStore,
    private readonly tenants: TenantsRepository,
    private readonly metrics: Metrics,
  ) {}

  @Post('tenants/:tenantId/sign')
  async sign(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Query('format') format: string | undefined,
    @Body() body: unknown,
    @Res() res: Response,
  ): Promise<void> {
    if (!(await this.tenants.find(tenantId))) throw new NotFoundException('no such tenant');
    if (format !== undefined && format !== 'detached' && format !== 'opaque') {
      throw new RelayError('invalid_request', 'format must be detached or opaque');
    }
    const raw = rawMessage(body);
    const from = fromAddressOf(raw);
    const identity = await this.store.identityFor(tenantId, from);
    if (!identity) {
      throw uncoveredFrom(from, (await this.store.list(tenantId)).some(validNow));
    }
    const signed = await signMessage(raw, identity, {
      format: format as 'detached' | 'opaque' | undefined,
    });
    this.metrics.signatures.inc({ outcome: 'signed' });
    res.status(200).type('message/rfc822').send(signed);
  }

  @Post('verify')
  @HttpCode(200)
  async verify(@Body() body: unknown) {
    return verifyMessage(rawMessage(body));
  }
}
