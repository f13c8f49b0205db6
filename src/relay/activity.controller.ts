/**
 * What the console charts and lists beside the messages:
 *   GET /v1/tenants/:tenantId/refusals and GET /v1/refusals (operator, every tenant and
 *   refusals that named no tenant): hand-offs the relay refused at intake, newest first;
 *   GET /v1/tenants/:tenantId/stats/messages and GET /v1/stats/messages (operator, every
 *   tenant): delivery attempts per hour or day by outcome.
 */
import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { BearerGuard, Caller, requireOperator, type Principal } from '../common/auth';
import { TenantScope } from '../tenants/tenant-scope';
import { ERROR_CODES } from '../plugin/error-codes';
import { RefusalLog } from './refusal-log';
import { MessageStatsReader, STATS_INTERVALS, type StatsInterval } from './message-stats';
import { PagedRangeQuery, rangeOf } from './messages.controller';

export class ListRefusalsQuery extends PagedRangeQuery {
  @ApiPropertyOptional({ description: 'Only refusals with this error code' })
  @IsOptional()
  @IsIn([...Object.keys(ERROR_CODES), 'internal_error'])
  code?: string;
}

export class StatsQuery {
  @ApiPropertyOptional({ enum: STATS_INTERVALS, default: 'hour' })
  @IsOptional()
  @IsIn(STATS_INTERVALS)
  interval?: StatsInterval;

  @ApiPropertyOptional({ description: 'How many buckets, this one included (48 hours or 30 days)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(366)
  buckets?: number;

  @ApiPropertyOptional({
    description: 'IANA time zone of the buckets, e.g. Asia/Tokyo',
    default: 'UTC',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/, {
    message: 'timeZone must be an IANA time zone such as Asia/Tokyo',
  })
  timeZone?: string;
}

function refusalQuery(q: ListRefusalsQuery) {
  return { limit: q.limit ?? 50, cursor: q.cursor, ...rangeOf(q), code: q.code };
}

@Controller('v1/tenants/:tenantId')
@UseGuards(BearerGuard, TenantScope)
export class TenantActivityController {
  constructor(
    private readonly refusals: RefusalLog,
    private readonly stats: MessageStatsReader,
  ) {}

  @Get('refusals')
  listRefusals(@Param('tenantId') tenantId: string, @Query() query: ListRefusalsQuery) {
    return this.refusals.list(tenantId, refusalQuery(query));
  }

  @Get('stats/messages')
  messageStats(@Param('tenantId') tenantId: string, @Query() query: StatsQuery) {
    return this.stats.read(tenantId, { ...query, interval: query.interval ?? 'hour' });
  }
}

@Controller('v1')
@UseGuards(BearerGuard)
export class ActivityController {
  constructor(
    private readonly refusals: RefusalLog,
    private readonly stats: MessageStatsReader,
  ) {}

  @Get('refusals')
  listRefusals(@Caller() caller: Principal, @Query() query: ListRefusalsQuery) {
    requireOperator(caller);
    return this.refusals.list(null, refusalQuery(query));
  }

  @Get('stats/messages')
  messageStats(@Caller() caller: Principal, @Query() query: StatsQuery) {
    requireOperator(caller);
    return this.stats.read(null, { ...query, interval: query.interval ?? 'hour' });
  }
}
