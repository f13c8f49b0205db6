import { parseArgs } from 'node:util';
import { loadEnvironment } from '../config/environment';
import { resolveMasterKey } from '../config/master-key';
import { MasterKeyRing } from '../secrets/key-vault';
import { rotateMasterKey } from '../secrets/rotate-master-key';
import { openDatabase } from '../database/connection';
import { migrate } from '../database/migrator';
import { usageErrors } from './args';
import { SEALED_COLUMNS } from '../sealed-columns';

export const ROTATE_USAGE = `Usage: smime-relay rotate-master-key

Re-wraps every stored private key's data key under MASTER_KEY. Set MASTER_KEY to the new
key and MASTER_KEY_PREVIOUS to the old one (on every instance first), run this, then drop
MASTER_KEY_PREVIOUS. Running instances keep working throughout.`;

export async function rotateCommand(argv: string[]): Promise<number> {
  const o = usageErrors(
    () =>
      parseArgs({ args: argv, strict: true, options: { help: { type: 'boolean', short: 'h' } } })
        .values,
  );
  if (o.help) {
    console.log(ROTATE_USAGE);
    return 0;
  }
  const env = loadEnvironment();
  const master = resolveMasterKey(env);
  const db = await openDatabase(env);
  try {
    await migrate(db.session);
    const r = await rotateMasterKey(
      db,
      new MasterKeyRing(master.key, master.previous),
      SEALED_COLUMNS,
    );
    console.log(
      `re-wrapped ${r.rewrapped} key(s); ${r.alreadyCurrent} already under the current master key`,
    );
    return 0;
  } finally {
    await db.close();
  }
}
