/**
 * Master key rotation without downtime:
 *   1. restart every instance with MASTER_KEY=<new> and MASTER_KEY_PREVIOUS=<old>: they open
 *      keys sealed under either;
 *   2. run `smime-relay rotate-master-key`: every stored key's data key is re-wrapped under
 *      the new master key (the sealed keys themselves do not change);
 *   3. drop MASTER_KEY_PREVIOUS.
 */
import { webhookSecretOwner } from '../webhooks/subscriptions';
import { dkimKeyOwner } from '../dkim/dkim-keys';
import { integrationSecretsOwner } from '../integrations/integration-store';
import { transitSecretsOwner } from '../transit/transit-settings';
import { and, eq, ne, sql } from 'drizzle-orm';
import type { Database } from '../database/connection';
import { certificates } from '../database/schema';
import {
  deliverySecretsOwner,
  MasterKeyRing,
  masterKeyFingerprint,
  rewrapPrivateKey,
} from './key-vault';

export interface RotationResult {
  rewrapped: number;
  alreadyCurrent: number;
}

export async function rotateMasterKey(db: Database, ring: MasterKeyRing): Promise<RotationResult> {
  const current = masterKeyFingerprint(ring.current);
  const rows = await db.orm
    .select({
      id: certificates.id,
      tenantId: certificates.tenantId,
      sealed: certificates.sealedPrivateKey,
    })
    .from(certificates)
    .where(ne(sql`length(${certificates.sealedPrivateKey})`, 0));
  let rewrapped = 0;
  for (const row of rows) {
    if (row.sealed.subarray(1, 9).equals(current)) continue;
    const next = rewrapPrivateKey(
      row.sealed,
      { tenantId: row.tenantId, certificateId: row.id },
      ring,
    );
    // Only if the row still holds what was read: a concurrent upload or removal wins.
    await db.orm
      .update(certificates)
      .set({ sealedPrivateKey: next })
      .where(and(eq(certificates.id, row.id), eq(certificates.sealedPrivateKey, row.sealed)));
    rewrapped++;
  }
  const others = await Promise.all(
    OTHER_SEALED.map((t) => rotateSealedColumn(db, ring, current, t)),
  );
  return others.reduce(
    (sum, r) => ({
      rewrapped: sum.rewrapped + r.rewrapped,
      alreadyCurrent: sum.alreadyCurrent + r.alreadyCurrent,
    }),
    { rewrapped, alreadyCurrent: rows.length - rewrapped },
  );
}

/**
 * Other sealed secrets: upstream passwords and provider keys, webhook secrets, DKIM keys,
 * transit-check mailbox passwords, platform integration secrets.
 */
const OTHER_SEALED = [
  {
    sql: 'SELECT tenant_id, tenant_id AS key, sealed_secrets AS sealed FROM delivery_settings WHERE sealed_secrets IS NOT NULL',
    update:
      'UPDATE delivery_settings SET sealed_secrets = $1 WHERE tenant_id = $2 AND sealed_secrets = $3',
    owner: (row: SealedRow) => deliverySecretsOwner(row.tenant_id),
  },
  {
    sql: 'SELECT tenant_id, id AS key, sealed_secret AS sealed FROM webhook_subscriptions',
    update:
      'UPDATE webhook_subscriptions SET sealed_secret = $1 WHERE id = $2 AND sealed_secret = $3',
    owner: (row: SealedRow) => webhookSecretOwner(row.tenant_id, row.key),
  },
  {
    sql: 'SELECT tenant_id, tenant_id AS key, sealed_private_key AS sealed FROM dkim_keys',
    update:
      'UPDATE dkim_keys SET sealed_private_key = $1 WHERE tenant_id = $2 AND sealed_private_key = $3',
    owner: (row: SealedRow) => dkimKeyOwner(row.tenant_id),
  },
  {
    sql: 'SELECT tenant_id, tenant_id AS key, sealed_secrets AS sealed FROM transit_check_settings WHERE sealed_secrets IS NOT NULL',
    update:
      'UPDATE transit_check_settings SET sealed_secrets = $1 WHERE tenant_id = $2 AND sealed_secrets = $3',
    owner: (row: SealedRow) => transitSecretsOwner(row.tenant_id),
  },
  {
    sql: 'SELECT tenant_id, id AS key, sealed_secrets AS sealed FROM integrations WHERE sealed_secrets IS NOT NULL',
    update: 'UPDATE integrations SET sealed_secrets = $1 WHERE id = $2 AND sealed_secrets = $3',
    owner: (row: SealedRow) => integrationSecretsOwner(row.tenant_id, row.key),
  },
];

interface SealedRow {
  tenant_id: string;
  key: string;
  sealed: Uint8Array;
}

async function rotateSealedColumn(
  db: Database,
  ring: MasterKeyRing,
  current: Buffer,
  t: (typeof OTHER_SEALED)[number],
): Promise<RotationResult> {
  const rows = await db.session.query<SealedRow>(t.sql);
  let rewrapped = 0;
  for (const row of rows) {
    const sealed = Buffer.from(row.sealed);
    if (sealed.subarray(1, 9).equals(current)) continue;
    const next = rewrapPrivateKey(sealed, t.owner(row), ring);
    // Only if the row still holds what was read: a concurrent change wins.
    await db.session.query(t.update, [next, row.key, sealed]);
    rewrapped++;
  }
  return { rewrapped, alreadyCurrent: rows.length - rewrapped };
}
