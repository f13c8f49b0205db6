/**
 * /v1/tenants/:tenantId/messages: what happened to each message, and a retry for failed ones.
 */
import { TenantScope } from '../tenants/tenant-scope';
import {
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import { TenantsRepository } from '../tenants/tenants.repository';
import { RelayError } from '../plugin/relay-error';
import { MESSAGE_STATES, Spool, type MessageState } from './spool';
import { MessageLog } from './message-log';
import { RelayQueue } from './relay-queue';

export class ListMessagesQuery {
  @ApiPropertyOptional({ enum: MESSAGE_STATES })
  @IsOptional()
  @IsIn(MESSAGE_STATES)
  status?: MessageState;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  cursor?: string;
}

@Controller('v1/tenants/:tenantId/messages')
@UseGuards(BearerGuard, TenantScope)
export class MessagesController {
  constructor(
    private readonly log: MessageLog,
    private readonly spool: Spool,
    private readonly queue: RelayQueue,
    private readonly tenants: TenantsRepository,
  ) {}

  @Get()
  async list(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Query() query: ListMessagesQuery,
  ) {
    return this.log.list(tenantId, {
      state: query.status,
      limit: query.limit ?? 50,
      cursor: query.cursor,
    });
  }

  @Get(':messageId')
  async get(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('messageId') messageId: string,
  ) {
    const message = await this.log.get(tenantId, messageId);
    if (!message) throw new NotFoundException('no such message');
    return message;
  }

  /** Queue a failed message again, with a fresh retry period. */
  @Post(':messageId/retry')
  @HttpCode(202)
  async retry(
    @Caller() caller: Principal,
    @Param('tenantId') tenantId: string,
    @Param('messageId') messageId: string,
  ) {
    if (!(await this.log.get(tenantId, messageId))) throw new NotFoundException('no such message');
    const result = await this.spool.requeue(tenantId, messageId);
    if (result === 'not_failed') {
      throw new RelayError('invalid_request', 'only a failed message can be retried');
    }
    if (result === 'no_body') {
      throw new RelayError(
        'invalid_request',
        'the message body is past its retention period and is gone',
      );
    }
    await this.queue.enqueue(messageId);
    return { id: messageId, state: 'queued' };
  }
}
