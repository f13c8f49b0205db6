/**
 * A tenant's upstream: which transport, and its settings. Fields the transport declares
 * secret are sealed by the key vault (AAD: tenant id and "delivery-settings") and read back
 * as "[redacted]"; the rest is stored as JSON.
 */
import type { SqlSession } from '../database/migrator';
import { EgressPolicy } from '../egress/egress-policy';
import type { SealedColumn } from '../secrets/rotate-master-key';
import { EgressRefused, EgressUnresolved } from '../egress/egress-guard';
import { Inject, Injectable } from '@nestjs/common';
import { TenantChanges } from '../tenants/tenant-changes';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { MASTER_KEYS } from '../config/tokens';
import { MasterKeyRing, type KeyOwner } from '../secrets/key-vault';
import { SealedSettings } from '../secrets/sealed-settings';
import { TransportRegistry, type DeliveryTransport } from '../plugin/contract';
import { RelayError } from '../plugin/relay-error';
import { getPath, validated } from '../common/settings-fields';

/** The owner of a tenant's sealed delivery secrets (the same envelope as private keys). */
export const deliverySecretsOwner = (tenantId: string): KeyOwner => ({
  tenantId,
  certificateId: 'delivery-settings',
});
const ownerOf = deliverySecretsOwner;

/** Upstream passwords and provider keys, for master key rotation. */
export const DELIVERY_SECRETS: SealedColumn = {
  what: 'delivery secrets',
  select:
    'SELECT tenant_id, tenant_id AS key, sealed_secrets AS sealed FROM delivery_settings WHERE sealed_secrets IS NOT NULL',
  update:
    'UPDATE delivery_settings SET sealed_secrets = $1 WHERE tenant_id = $2 AND sealed_secrets = $3',
  owner: (row) => deliverySecretsOwner(row.tenant_id),
};

/** The tenant's transport and plain settings (no secrets), for the readiness checks. */
export async function deliveryTransportOf(
  session: SqlSession,
  tenantId: string,
): Promise<{ transport: string; settings: Record<string, unknown> } | undefined> {
  const [row] = await session.query<{ transport: string; settings: Record<string, unknown> }>(
    'SELECT transport, settings FROM delivery_settings WHERE tenant_id = $1',
    [tenantId],
  );
  return row;
}

export interface StoredDelivery {
  transport: string;
  settings: object;
  sealedSecrets: Buffer | null;
  updatedAt: Date;
}

@Injectable()
export class DeliverySettings {
  /** Opened settings per tenant, valid while the row's updated_at is unchanged. */
  private readonly opened = new Map<string, { updatedAt: number; settings: object }>();

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(MASTER_KEYS) private readonly keys: MasterKeyRing,
    private readonly transports: TransportRegistry,
    private readonly egress: EgressPolicy,
    private readonly changes: TenantChanges,
  ) {}

  /**
   * A tenant may not change what only the operator may set (a custom API root or relay
   * host): each such field must be absent or keep its stored value.
   */
  private async checkOperatorFields(
    tenantId: string,
    transport: DeliveryTransport,
    body: Record<string, unknown>,
  ): Promise<void> {
    const fields = transport.operatorFields ?? [];
    const given = fields.filter((p) => getPath(body, p) !== undefined);
    if (!given.length) return;
    const stored = await this.load(tenantId);
    const current =
      stored && stored.transport === transport.id
        ? (stored.settings as Record<string, unknown>)
        : undefined;
    for (const p of given) {
      const value = getPath(body, p);
      if (current && JSON.stringify(getPath(current, p)) === JSON.stringify(value)) continue;
      if (transport.tenantValues?.[p]?.includes(value)) continue;
      throw new RelayError(
        'forbidden',
        `${p} is set by the operator (an API root or relay host of the operator's choosing); a tenant picks the provider's region`,
      );
    }
  }

  /** Every destination in the settings against the egress policy, when they are saved. */
  private async checkDestinations(
    transport: DeliveryTransport,
    body: Record<string, unknown>,
  ): Promise<void> {
    for (const f of transport.destinationFields ?? []) {
      const value = getPath(body, f.path);
      if (typeof value !== 'string') continue;
      try {
        if (f.kind === 'url') await this.egress.checkUrl(f.destination, value);
        else await this.egress.address(f.destination, value);
      } catch (e) {
        // A host that does not resolve yet may later; the connection is checked again then.
        if (e instanceof EgressUnresolved && f.kind === 'host') continue;
        if (!(e instanceof EgressRefused)) throw e;
        const hint =
          f.destination === 'smtp-upstream'
            ? ' (an upstream on a private network must be listed in SMTP_UPSTREAM_ALLOW by the operator)'
            : f.destination === 'provider-api' && !this.egress.opensPrivate(f.destination)
              ? ' (a private API root needs PROVIDER_API_ALLOW_PRIVATE=true)'
              : '';
        throw new RelayError('invalid_request', `${f.path}: ${e.message}${hint}`);
      }
    }
  }

  /** The transport's settings with its secret fields sealed for the tenant. */
  private sealedFor(transport: DeliveryTransport): SealedSettings<object> {
    return new SealedSettings(transport.settings, transport.secretFields, this.keys);
  }

  transportFor(id: string): DeliveryTransport {
    const t = this.transports.get(id);
    if (!t) {
      throw new RelayError(
        'invalid_request',
        `unknown transport "${id}"; use one of: ${this.transports.ids().join(', ')}`,
      );
    }
    return t;
  }

  /** Validate a request body `{transport, …settings}` into the transport's settings object. */
  async parse(
    body: Record<string, unknown>,
  ): Promise<{ transport: DeliveryTransport; settings: object }> {
    if (typeof body?.transport !== 'string') {
      throw new RelayError('invalid_request', 'transport is required');
    }
    const transport = this.transportFor(body.transport);
    const plain: Record<string, unknown> = { ...body };
    delete plain.transport;
    return { transport, settings: await validated(transport.settings, plain) };
  }

  /**
   * Store settings; a secret sent as "[redacted]" keeps its stored value. `byOperator`: the
   * caller may set the transport's operator fields.
   */
  async put(tenantId: string, body: Record<string, unknown>, byOperator = true): Promise<object> {
    const { transport, settings } = await this.parse(await this.keepRedacted(tenantId, body));
    if (!byOperator) await this.checkOperatorFields(tenantId, transport, body);
    await this.checkDestinations(transport, body);
    const fields = this.sealedFor(transport);
    const { plain, sealed, secretPaths } = fields.seal(settings, ownerOf(tenantId));
    await this.db.session.query(
      `INSERT INTO delivery_settings (tenant_id, transport, settings, sealed_secrets, updated_at)
       VALUES ($1, $2, $3, $4, clock_timestamp())
       ON CONFLICT (tenant_id) DO UPDATE SET transport = $2, settings = $3,
         sealed_secrets = $4, updated_at = clock_timestamp()`,
      [tenantId, transport.id, JSON.stringify(plain), sealed],
    );
    this.opened.delete(tenantId);
    this.changes.changed(tenantId);
    return { transport: transport.id, ...fields.redact(plain, secretPaths) };
  }

  /** The stored settings count only while the tenant keeps the same transport. */
  private async keepRedacted(
    tenantId: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const t = typeof body?.transport === 'string' ? this.transports.get(body.transport) : undefined;
    if (!t) return body;
    return this.sealedFor(t).keepRedacted(body, async () => {
      const stored = await this.load(tenantId);
      return stored && stored.transport === t.id ? this.open(tenantId, stored) : undefined;
    });
  }

  async load(tenantId: string): Promise<StoredDelivery | undefined> {
    const [r] = await this.db.session.query<Record<string, never>>(
      'SELECT transport, settings, sealed_secrets, updated_at FROM delivery_settings WHERE tenant_id = $1',
      [tenantId],
    );
    if (!r) return undefined;
    const sealed = r.sealed_secrets as Buffer | Uint8Array | null;
    return {
      transport: r.transport,
      settings: r.settings,
      sealedSecrets: sealed ? Buffer.from(sealed) : null,
      updatedAt: r.updated_at,
    };
  }

  /** The settings as the API shows them: secrets redacted. */
  async get(tenantId: string): Promise<object | undefined> {
    const stored = await this.load(tenantId);
    if (!stored) return undefined;
    const transport = this.transportFor(stored.transport);
    const shown = this.sealedFor(transport).view(
      stored.settings,
      stored.sealedSecrets,
      ownerOf(tenantId),
    );
    return { transport: transport.id, ...shown };
  }

  /** The full settings object, secrets included, for the transport (cached per version). */
  open(tenantId: string, stored: StoredDelivery): object {
    const version = new Date(stored.updatedAt).getTime();
    const hit = this.opened.get(tenantId);
    if (hit && hit.updatedAt === version) return hit.settings;
    const transport = this.transportFor(stored.transport);
    const settings = this.sealedFor(transport).open(
      stored.settings,
      stored.sealedSecrets,
      ownerOf(tenantId),
    );
    this.opened.set(tenantId, { updatedAt: version, settings });
    return settings;
  }
}
