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
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { BearerGuard, Caller, type Principal } from '../common/auth';
import { TenantsRepository } from '../tenants/tenants.repository';
import { RelayError } from '../plugin/relay-error';
import { MESSAGE_STATES, Spool, type MessageState } from './spool';
import { MessageLog } from './message-log';
import { RelayQueue } from './relay-queue';

/** A page of a time-ordered list, newest first: its size, where it starts, a time range. */
export class PagedRangeQuery {
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

  @ApiPropertyOptional({ description: 'At or after this time (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ description: 'Before this time (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;
}

export class ListMessagesQuery extends PagedRangeQuery {
  @ApiPropertyOptional({ enum: MESSAGE_STATES })
  @IsOptional()
  @IsIn(MESSAGE_STATES)
  status?: MessageState;

  @ApiPropertyOptional({ description: "Part of a recipient's address, any case" })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  recipient?: string;

  @ApiPropertyOptional({
    description: 'Part of the subject as shown (encoded-words decoded), any case',
  })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  subject?: string;

  @ApiPropertyOptional({ description: 'The Message-ID header field, with or without <>' })
  @IsOptional()
  @IsString()
  @MaxLength(998)
  messageId?: string;
}

/** The query's time range as Dates (validated already); since must come before until. */
export function rangeOf(q: PagedRangeQuery): { since?: Date; until?: Date } {
  const since = q.since === undefined ? undefined : new Date(q.since);
  const until = q.until === undefined ? undefined : new Date(q.until);
  if (since && until && since >= until) {
    throw new RelayError('invalid_request', 'since must be earlier than until');
  }
  return { since, until };
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
    const { since, until } = rangeOf(query);
    return this.log.list(tenantId, {
      state: query.status,
      limit: query.limit ?? 50,
      cursor: query.cursor,
      since,
      until,
      recipient: query.recipient?.trim() || undefined,
      subject: query.subject?.trim() || undefined,
      messageId: query.messageId?.trim() || undefined,
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
