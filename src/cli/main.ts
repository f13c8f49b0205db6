#!/usr/bin/env node
/**
 * The smime-relay command: sign, verify, migrate, serve. Failures print one line,
 * `error [code]: what is wrong, and what to do`, and exit with 2 (usage), 3 (identity or
 * certificate refused) or 4 (message refused); never a stack trace.
 */
import { ERROR_CODES } from '../plugin/error-codes';
import { isRelayError, RelayError } from '../plugin/relay-error';
import { parseArgs } from 'node:util';
import { usageErrors } from './args';
import { ROLES, type Role } from '../plugin/contract';
import { ConfigError } from '../config/environment';
import { signCommand } from './sign.command';
import { verifyCommand } from './verify.command';
import { migrateCommand } from './migrate.command';
import { rotateCommand } from './rotate.command';

const USAGE = `Usage: smime-relay <command> [options]

Commands:
  sign      sign one message with a certificate (PKCS#12 or PEM)
  verify    verify a signed message
  migrate   apply the database migrations (also done at start-up)
  rotate-master-key   re-wrap stored keys under a new MASTER_KEY
  serve     run the relay (HTTP on HTTP_PORT 8080, SMTP on SMTP_PORT 2525); --role to scale out
  demo      send a sample newsletter through a local relay and check its signature (needs Redis)
  doctor    check whether a domain is ready to send from (SPF, DKIM, DMARC, S/MIME, unsubscribe)

Run "smime-relay <command> --help" for a command's options.`;

const EXIT = {
  usage: 2,
  identity: 3,
  message: 4,
  verification: 4,
  delivery: 1,
  internal: 1,
} as const;

const SERVE_USAGE = `Usage: smime-relay serve [--role all|api|smtp|worker]

  all     (default) everything in one process
  api     the admin API only (HTTP)
  smtp    SMTP submission and the admin API
  worker  signing and delivery, recovery, and the admin API`;

async function serve(args: string[]): Promise<number> {
  const { values } = usageErrors(() =>
    parseArgs({
      args,
      options: { role: { type: 'string', default: 'all' }, help: { type: 'boolean' } },
      strict: true,
    }),
  );
  if (values.help) {
    process.stdout.write(SERVE_USAGE + '\n');
    return 0;
  }
  if (!ROLES.includes(values.role as Role)) {
    throw new RelayError('usage', `unknown role "${values.role}"; use ${ROLES.join(', ')}`);
  }
  // Loaded only here, so sign and verify start without NestJS.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { bootstrap, exitOnSignals } = require('../main') as typeof import('../main');
  exitOnSignals(await bootstrap({ role: values.role as Role }));
  return -1; // keep running
}

export async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'sign':
        return await signCommand(rest);
      case 'verify':
        return await verifyCommand(rest);
      case 'migrate':
        return await migrateCommand(rest);
      case 'rotate-master-key':
        return await rotateCommand(rest);
      case 'serve':
        return await serve(rest);
      case 'demo': {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { demoCommand } = require('./demo.command') as typeof import('./demo.command');
        return await demoCommand(rest);
      }
      case 'doctor': {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { doctorCommand } = require('./doctor.command') as typeof import('./doctor.command');
        return await doctorCommand(rest);
      }
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(
          `error [usage]: unknown command "${command}". ${ERROR_CODES.usage.hint}\n`,
        );
        return 2;
    }
  } catch (e) {
    const code = report(e);
    // A relay that failed to start may hold open pools and listeners: end the process.
    if (command === 'serve') process.exit(code);
    return code;
  }
}

/** The failure as one stderr line; returns the exit code. */
function report(e: unknown): number {
  if (e instanceof ConfigError) {
    process.stderr.write(`error [config]: ${e.message}\n`);
    return 2;
  }
  if (isRelayError(e)) {
    process.stderr.write(e.toLine() + '\n');
    return EXIT[ERROR_CODES[e.code].category];
  }
  process.stderr.write(
    `error [internal_error]: ${(e as Error)?.message ?? String(e)}. ${ERROR_CODES.internal_error.hint}\n`,
  );
  return 1;
}

if (require.main === module) {
  run(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exitCode = code;
  });
}
