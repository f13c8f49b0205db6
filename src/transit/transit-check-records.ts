/**
 * Every read and write of `transit_checks`: the one module with SQL on it. A check row is
 * written when the check starts and finished with its report.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import type { SqlSession } from '../database/migrator';
import { isUuid } from '../common/ids';
import type { TransitDiff } from './transit-diff';

export interface TransitCheckResult {
  delivered: boolean;
  deliveryError?: { code: string; message: string };
  arrived: boolean;
  smime?: {
    valid: boolean;
    format?: string;
    signer?: string;
    errors: { code: string; message: string }[];
  };
  dkim?: { result: string; domain?: string; comment?: string };
  changes?: TransitDiff;
  timings: { deliveryMs?: number; arrivalMs?: number; totalMs: number };
  /** Every reason the check failed, in a sentence each; empty when it passed. */
  problems: string[];
}

export interface TransitCheckView {
  id: string;
  state: 'running' | 'passed' | 'failed';
  trigger: 'api' | 'schedule';
  from: string;
  to: string;
  messageId: string | null;
  startedAt: string;
  finishedAt: string | null;
  result: TransitCheckResult | null;
}

interface Row {
  id: string;
  state: TransitCheckView['state'];
  trigger: TransitCheckView['trigger'];
  from_address: string;
  seed_address: string;
  message_id: string | null;
  started_at: Date;
  finished_at: Date | null;
  result: TransitCheckResult | null;
}

const view = (r: Row): TransitCheckView => ({
  id: r.id,
  state: r.state,
  trigger: r.trigger,
  from: r.from_address,
  to: r.seed_address,
  messageId: r.message_id,
  startedAt: new Date(r.started_at).toISOString(),
  finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
  result: r.result,
});

const COLUMNS =
  'id, state, trigger, from_address, seed_address, message_id, started_at, finished_at, result';

/** The newest transit check of the tenant from `domain`, for the readiness checks. */
export async function latestTransitCheck(
  session: SqlSession,
  tenantId: string,
  domain: string,
): Promise<
  | {
      id: string;
      state: TransitCheckView['state'];
      from: string;
      to: string;
      startedAt: Date;
      problems: string[];
    }
  | undefined
> {
  const [row] = await session.query<Row>(
    `SELECT ${COLUMNS} FROM transit_checks
      WHERE tenant_id = $1 AND split_part(lower(from_address), '@', 2) = $2
      ORDER BY started_at DESC LIMIT 1`,
    [tenantId, domain.toLowerCase()],
  );
  return (
    row && {
      id: row.id,
      state: row.state,
      from: row.from_address,
      to: row.seed_address,
      startedAt: new Date(row.started_at),
      problems: row.result?.problems ?? [],
    }
  );
}

@Injectable()
export class TransitCheckRecords {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async insert(c: {
    id: string;
    tenantId: string;
    from: string;
    to: string;
    trigger: TransitCheckView['trigger'];
  }): Promise<TransitCheckView> {
    const [row] = await this.db.session.query<Row>(
      `INSERT INTO transit_checks (id, tenant_id, from_address, seed_address, state, trigger)
       VALUES ($1, $2, $3, $4, 'running', $5) RETURNING ${COLUMNS}`,
      [c.id, c.tenantId, c.from, c.to, c.trigger],
    );
    return view(row);
  }

  async setMessage(id: string, messageId: string): Promise<void> {
    await this.db.session.query('UPDATE transit_checks SET message_id = $2 WHERE id = $1', [
      id,
      messageId,
    ]);
  }

  async finish(id: string, state: 'passed' | 'failed', result: TransitCheckResult): Promise<void> {
    await this.db.session.query(
      `UPDATE transit_checks SET state = $2, finished_at = now(), result = $3 WHERE id = $1`,
      [id, state, JSON.stringify(result)],
    );
  }

  /** Checks still running since before `startedBefore`: cut off by a restart, closed as failed. */
  async closeInterrupted(startedBefore: Date): Promise<void> {
    await this.db.session.query(
      `UPDATE transit_checks SET state = 'failed', finished_at = now(),
         result = jsonb_build_object('delivered', false, 'arrived', false,
           'timings', jsonb_build_object('totalMs', 0),
           'problems', jsonb_build_array('the check was interrupted (the relay stopped while it ran)'))
       WHERE state = 'running' AND started_at < $1`,
      [startedBefore],
    );
  }

  async list(tenantId: string, limit = 20): Promise<TransitCheckView[]> {
    const rows = await this.db.session.query<Row>(
      `SELECT ${COLUMNS} FROM transit_checks WHERE tenant_id = $1
        ORDER BY started_at DESC, id LIMIT $2`,
      [tenantId, Math.min(Math.max(limit, 1), 100)],
    );
    return rows.map(view);
  }

  async get(tenantId: string, id: string): Promise<TransitCheckView | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.session.query<Row>(
      `SELECT ${COLUMNS} FROM transit_checks WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return row && view(row);
  }
}
