/**
 * Master key rotation without downtime:
 *   1. restart every instance with MASTER_KEY=<new> and MASTER_KEY_PREVIOUS=<old>: they open
 *      keys sealed under either;
 *   2. run `smime-relay rotate-master-key`: every stored key's data key is re-wrapped under
 *      the new master key (the sealed keys themselves do not change);
 *   3. drop MASTER_KEY_PREVIOUS.
 */
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
  const delivery = await rotateDeliverySecrets(db, ring, current);
  return {
    rewrapped: rewrapped + delivery.rewrapped,
    alreadyCurrent: rows.length - rewrapped + delivery.alreadyCurrent,
  };
}

/** The sealed secrets of delivery settings (upstream passwords, provider API keys). */
async function rotateDeliverySecrets(
  db: Database,
  ring: MasterKeyRing,
  current: Buffer,
): Promise<RotationResult> {
  const rows = await db.session.query<{ tenant_id: string; sealed_secrets: Uint8Array }>(
    'SELECT tenant_id, sealed_secrets FROM delivery_settings WHERE sealed_secrets IS NOT NULL',
  );
  let rewrapped = 0;
  for (const row of rows) {
    const sealed = Buffer.from(row.sealed_secrets);
    if (sealed.subarray(1, 9).equals(current)) continue;
    const next = rewrapPrivateKey(sealed, deliverySecretsOwner(row.tenant_id), ring);
    await db.session.query(
      'UPDATE delivery_settings SET sealed_secrets = $1 WHERE tenant_id = $2 AND sealed_secrets = $3',
      [next, row.tenant_id, sealed],
    );
    rewrapped++;
  }
  return { rewrapped, alreadyCurrent: rows.length - rewrapped };
}
