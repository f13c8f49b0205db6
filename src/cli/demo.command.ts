import { parseArgs } from 'node:util';
import { RelayError } from '../plugin/relay-error';
import { usageErrors } from './args';

export const DEMO_USAGE = `Usage: smime-relay demo [--data-dir DIR]

Runs the relay once on this machine and shows a newsletter going through it: starts it
in-process on the embedded database, makes a test CA and an S/MIME certificate for
news@demo.example with openssl, sets up a tenant through the admin API, sends a Japanese
and English newsletter over SMTP to a local test upstream, waits for delivery and checks
the delivered message with openssl cms -verify.

Needs only Redis (REDIS_URL, default redis://127.0.0.1:6379) and the openssl command.

  --data-dir DIR   where the embedded database, the test CA and the signed message go
                   (default ./data/demo)`;

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = usageErrors(() =>
    parseArgs({
      args: argv,
      strict: true,
      options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }),
  );
  if (values.help) {
    console.log(DEMO_USAGE);
    return 0;
  }
  if (values['data-dir'] === '') throw new RelayError('usage', '--data-dir needs a directory');
  // Loaded only here, so the other commands start without NestJS.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const demo = require('../demo/run-demo') as typeof import('../demo/run-demo');
  await demo.runDemo({ dataDir: values['data-dir'] ?? demo.DEFAULT_DEMO_DATA_DIR });
  return 0;
}
