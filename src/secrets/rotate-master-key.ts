/**
 * Master key rotation without downtime:
 *   1. restart every instance with MASTER_KEY=<new> and MASTER_KEY_PREVIOUS=<old>: they open
 *      records sealed under either;
 *   2. run `smime-relay rotate-master-key`: every sealed record's data key is re-wrapped under
 *      the new master key (the sealed data itself does not change);
 *   3. drop MASTER_KEY_PREVIOUS.
 * Which columns hold sealed records is declared by their owners (SealedColumn) and listed
 * in src/sealed-columns.ts; this module knows none of them.
 */
import type { Database } from '../database/connection';
import { MasterKeyRing, masterKeyFingerprint, rewrapPrivateKey, type KeyOwner } from './key-vault';

export interface SealedRow {
  tenant_id: string;
  /** What identifies the row in `update` (an id, or the tenant id). */
  key: string;
  sealed: Uint8Array;
}

/** A column of sealed records, declared by the module that owns its table. */
export interface SealedColumn {
  /** For messages: "certificate keys", "delivery secrets", … */
  what: string;
  /** Selects `tenant_id`, `key` and `sealed` of every sealed record. */
  select: string;
  /** Sets $1 (the re-wrapped record) where the key is $2 and the record is still $3. */
  update: string;
  owner(row: SealedRow): KeyOwner;
}

export interface RotationResult {
  rewrapped: number;
  alreadyCurrent: number;
}

async function rotateColumn(
  db: Database,
  ring: MasterKeyRing,
  current: Buffer,
  c: SealedColumn,
): Promise<RotationResult> {
  const rows = await db.session.query<SealedRow>(c.select);
  let rewrapped = 0;
  for (const row of rows) {
    const sealed = Buffer.from(row.sealed);
    if (sealed.subarray(1, 9).equals(current)) continue;
    const next = rewrapPrivateKey(sealed, c.owner(row), ring);
    // Only if the row still holds what was read: a concurrent change wins.
    await db.session.query(c.update, [next, row.key, sealed]);
    rewrapped++;
  }
  return { rewrapped, alreadyCurrent: rows.length - rewrapped };
}

export async function rotateMasterKey(
  db: Database,
  ring: MasterKeyRing,
  columns: readonly SealedColumn[],
): Promise<RotationResult> {
  const current = masterKeyFingerprint(ring.current);
  const results = await Promise.all(columns.map((c) => rotateColumn(db, ring, current, c)));
  return results.reduce(
    (sum, r) => ({
      rewrapped: sum.rewrapped + r.rewrapped,
      alreadyCurrent: sum.alreadyCurrent + r.alreadyCurrent,
    }),
    { rewrapped: 0, alreadyCurrent: 0 },
  );
}
