import { parseArgs } from 'node:util';
import { loadEnvironment } from '../config/environment';
import { openDatabase } from '../database/connection';
import { migrate } from '../database/migrator';
import { usageErrors } from './args';

export const MIGRATE_USAGE = `Usage: smime-relay migrate

Applies the database migrations that are missing: PostgreSQL when DATABASE_URL is set,
otherwise the embedded database under DATA_DIR. The service also migrates at start-up.`;

export async function migrateCommand(argv: string[]): Promise<number> {
  const o = usageErrors(
    () =>
      parseArgs({ args: argv, strict: true, options: { help: { type: 'boolean', short: 'h' } } })
        .values,
  );
  if (o.help) {
    console.log(MIGRATE_USAGE);
    return 0;
  }
  const env = loadEnvironment();
  const db = await openDatabase(env);
  try {
    const applied = await migrate(db.session);
    const where =
      db.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `embedded database in ${env.DATA_DIR}`;
    console.log(
      applied.length
        ? `applied ${applied.join(', ')} to the ${where}`
        : `the ${where} is up to date`,
    );
    return 0;
  } finally {
    await db.close();
  }
}
