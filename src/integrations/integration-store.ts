/**
 * Platform integrations of a tenant. The settings are validated by the platform adapter's
 * DTO; its secret fields are sealed by the key vault (AAD: tenant and integration id) and
 * read back as "[redacted]". A platform that calls the relay gets a generated login: the
 * password is 256 random bits, shown once, stored as SHA-256.
 */
import type { SealedColumn } from '../secrets/rotate-master-key';
import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Database } from '../database/connection';
import type { SqlSession } from '../database/migrator';
import { DATABASE } from '../database/database.module';
import { MASTER_KEYS } from '../config/tokens';
import type { KeyOwner, MasterKeyRing } from '../secrets/key-vault';
import { SealedSettings } from '../secrets/sealed-settings';
import { isUuid } from '../common/ids';
import { validated } from '../common/settings-fields';
import {
  PlatformRegistry,
  type Integration,
  type IntegrationLogins,
  type PlatformAdapter,
} from '../plugin/contract';
import { RelayError } from '../plugin/relay-error';

export const integrationSecretsOwner = (tenantId: string, id: string): KeyOwner => ({
  tenantId,
  certificateId: `integration:${id}`,
});

/** Platform integration secrets, for master key rotation. */
export const INTEGRATION_SECRETS: SealedColumn = {
  what: 'integration secrets',
  select:
    'SELECT tenant_id, id AS key, sealed_secrets AS sealed FROM integrations WHERE sealed_secrets IS NOT NULL',
  update: 'UPDATE integrations SET sealed_secrets = $1 WHERE id = $2 AND sealed_secrets = $3',
  owner: (row) => integrationSecretsOwner(row.tenant_id, row.key),
};

const hash = (password: string): Buffer => createHash('sha256').update(password, 'utf8').digest();

interface Row {
  id: string;
  tenant_id: string;
  platform: string;
  settings: Record<string, unknown>;
  sealed_secrets: Uint8Array | null;
  username: string | null;
  created_at: Date;
}

const COLUMNS = 'id, tenant_id, platform, settings, sealed_secrets, username, created_at';

/** What the API shows of an integration: secrets redacted, never the password. */
export interface IntegrationView {
  id: string;
  platform: string;
  settings: Record<string, unknown>;
  username?: string;
  createdAt: Date;
}

/** The ids of the tenant's integrations with `platform`, oldest first. */
export async function integrationIdsOf(
  session: SqlSession,
  tenantId: string,
  platform: string,
): Promise<string[]> {
  const rows = await session.query<{ id: string }>(
    'SELECT id::text AS id FROM integrations WHERE tenant_id = $1 AND platform = $2 ORDER BY created_at, id',
    [tenantId, platform],
  );
  return rows.map((r) => r.id);
}

@Injectable()
export class IntegrationStore implements IntegrationLogins {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(MASTER_KEYS) private readonly keys: MasterKeyRing,
    private readonly platforms: PlatformRegistry,
  ) {}

  /**
   * The adapter's settings with its secret fields sealed per integration. A view shows only
   * the adapter's secret fields, and all of them when the record does not open.
   */
  private sealedFor(adapter: PlatformAdapter): SealedSettings<object> {
    return new SealedSettings(adapter.settings, adapter.secretFields, this.keys, {
      viewOnlyDeclared: true,
      viewUnopenable: 'redact-declared',
    });
  }

  adapterFor(platform: string): PlatformAdapter {
    const a = this.platforms.get(platform);
    if (!a) {
      const known = this.platforms
        .all()
        .map((p) => p.platform)
        .join(', ');
      throw new RelayError('not_found', `unknown platform "${platform}"; use one of: ${known}`);
    }
    return a;
  }

  /** Validate and store a new integration; the login's password is returned only here. */
  async create(
    tenantId: string,
    adapter: PlatformAdapter,
    body: unknown,
    check: (settings: object) => Promise<void> = async () => undefined,
  ): Promise<IntegrationView & { password?: string }> {
    const settings = await validated(adapter.settings, body);
    await check(settings);
    const id = randomUUID();
    const { plain, sealed } = this.sealedFor(adapter).seal(
      settings,
      integrationSecretsOwner(tenantId, id),
    );
    const login = adapter.inboundPath
      ? {
          username: `${adapter.platform}_${randomBytes(9).toString('base64url')}`,
          password: randomBytes(32).toString('base64url'),
        }
      : undefined;
    const [row] = await this.db.session.query<Row>(
      `INSERT INTO integrations (id, tenant_id, platform, settings, sealed_secrets, username, password_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [
        id,
        tenantId,
        adapter.platform,
        JSON.stringify(plain),
        sealed,
        login?.username ?? null,
        login ? hash(login.password) : null,
      ],
    );
    return { ...this.view(row, adapter), ...(login ? { password: login.password } : {}) };
  }

  async list(tenantId: string, adapter: PlatformAdapter): Promise<IntegrationView[]> {
    const rows = await this.rows(tenantId, adapter.platform);
    return rows.map((r) => this.view(r, adapter));
  }

  async get(
    tenantId: string,
    adapter: PlatformAdapter,
    id: string,
  ): Promise<IntegrationView | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.session.query<Row>(
      `SELECT ${COLUMNS} FROM integrations WHERE id = $1 AND tenant_id = $2 AND platform = $3`,
      [id, tenantId, adapter.platform],
    );
    return row && this.view(row, adapter);
  }

  async delete(tenantId: string, platform: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.session.query(
      'DELETE FROM integrations WHERE id = $1 AND tenant_id = $2 AND platform = $3 RETURNING id',
      [id, tenantId, platform],
    );
    return rows.length > 0;
  }

  /** One of the tenant's integrations, secrets opened (for feedback); undefined if gone. */
  async openedOne(
    tenantId: string,
    platform: string,
    id: string,
  ): Promise<Integration | undefined> {
    const adapter = this.platforms.get(platform);
    if (!adapter || !isUuid(id)) return undefined;
    const [row] = await this.db.session.query<Row>(
      `SELECT ${COLUMNS} FROM integrations WHERE id = $1 AND tenant_id = $2 AND platform = $3`,
      [id, tenantId, platform],
    );
    return row && this.open(row, adapter);
  }

  /** The integration a login belongs to; constant-time on the password hash. */
  async find(
    platform: string,
    username: string,
    password: string,
  ): Promise<Integration | undefined> {
    const adapter = this.platforms.get(platform);
    if (!adapter) return undefined;
    const [row] = await this.db.session.query<Row & { password_hash: Uint8Array }>(
      `SELECT ${COLUMNS}, password_hash FROM integrations WHERE username = $1 AND platform = $2`,
      [username, platform],
    );
    if (!row) return undefined;
    if (!timingSafeEqual(Buffer.from(row.password_hash), hash(password))) return undefined;
    return this.open(row, adapter);
  }

  private rows(tenantId: string, platform: string): Promise<Row[]> {
    return this.db.session.query<Row>(
      `SELECT ${COLUMNS} FROM integrations WHERE tenant_id = $1 AND platform = $2
       ORDER BY created_at, id`,
      [tenantId, platform],
    );
  }

  private open(row: Row, adapter: PlatformAdapter): Integration {
    const owner = integrationSecretsOwner(row.tenant_id, row.id);
    return {
      id: row.id,
      tenantId: row.tenant_id,
      platform: row.platform,
      settings: this.sealedFor(adapter).open(row.settings, row.sealed_secrets, owner),
    };
  }

  private view(row: Row, adapter: PlatformAdapter): IntegrationView {
    const owner = integrationSecretsOwner(row.tenant_id, row.id);
    return {
      id: row.id,
      platform: row.platform,
      settings: this.sealedFor(adapter).view(row.settings, row.sealed_secrets, owner),
      ...(row.username ? { username: row.username } : {}),
      createdAt: row.created_at,
    };
  }
}
