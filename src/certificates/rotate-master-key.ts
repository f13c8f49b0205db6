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
import { MasterKeyRing, masterKeyFingerprint, rewrapPrivateKey } from './key-vault';

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
  return { rewrapped, alreadyCurrent: rows.length - rewrapped };
}
