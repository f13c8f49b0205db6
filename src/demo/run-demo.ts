/**
 * `smime-relay demo`: the whole relay once, on this machine, with nothing configured but
 * Redis. It starts the relay in-process on the embedded database, makes a test CA and an
 * S/MIME certificate, sets up a tenant through the admin API, sends a newsletter over SMTP
 * to a local upstream, waits for delivery and checks the delivered bytes with openssl.
 */
import { Logger, type INestApplication } from '@nestjs/common';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrap } from '../main';
import { RelayError } from '../plugin/relay-error';
import { AdminClient } from './admin-client';
import { submitNewsletter, waitForDelivery } from './demo-delivery';
import { demoEnvironment, requireRedis } from './demo-env';
import { DEMO_RECIPIENT, DEMO_SUBJECT } from './demo-newsletter';
import { createDemoPki, DEMO_SENDER } from './demo-pki';
import { setUpDemoTenant } from './demo-tenant';
import { startDemoSink, type DemoSink } from './demo-sink';
import { verifyWithOpensslCli } from './demo-verify';

export const DEFAULT_DEMO_DATA_DIR = './data/demo';
export const SIGNED_FILE_NAME = 'demo-signed.eml';

export interface DemoOptions {
  dataDir: string;
  /** The environment to start from (default process.env). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Where the report lines go (default stdout). */
  print?: (line: string) => void;
  deliveryTimeoutMs?: number;
}

export interface DemoOutcome {
  tenantId: string;
  messageId: string;
  signedPath: string;
  caPath: string;
}

const line = (label: string, value: string): string => `  ${label.padEnd(10)} ${value}`;

export async function runDemo(options: DemoOptions): Promise<DemoOutcome> {
  const print = options.print ?? ((text: string) => process.stdout.write(text + '\n'));
  const { dataDir } = options;
  const setup = await demoEnvironment(dataDir, options.baseEnv);
  await requireRedis(setup.env);
  // Start-up lines before Nest's own logger takes over: warnings and errors only.
  Logger.overrideLogger(['error', 'warn']);
  print(`smime-relay demo, data in ${dataDir}`);
  const pki = await createDemoPki(join(dataDir, 'demo-ca'));
  let sink: DemoSink | undefined;
  let app: INestApplication | undefined;
  try {
    sink = await startDemoSink();
    app = await bootstrap({ role: 'all', processEnv: setup.processEnv });
    print(
      line(
        'relay',
        `HTTP http://127.0.0.1:${setup.httpPort}, SMTP 127.0.0.1:${setup.smtpPort}, embedded database`,
      ),
    );
    print(line('upstream', `test SMTP server on 127.0.0.1:${sink.port}`));
    const admin = new AdminClient(`http://127.0.0.1:${setup.httpPort}`, setup.adminToken);
    const tenant = await setUpDemoTenant(admin, pki, sink.port);
    print(line('tenant', `${tenant.id} "${tenant.name}"`));
    print(line('cert', `${tenant.certificateFor.join(', ')}, issued by the test CA ${pki.caPath}`));
    const messageId = await submitNewsletter(setup.smtpPort, tenant);
    print(line('sent', `"${DEMO_SUBJECT}" from ${DEMO_SENDER} to ${DEMO_RECIPIENT}`));
    const message = await waitForDelivery(
      admin,
      tenant.id,
      messageId,
      options.deliveryTimeoutMs ?? 60_000,
    );
    const reply = message.attemptLog[message.attemptLog.length - 1]?.reply ?? '';
    print(line('message', `${messageId} ${message.state} (upstream replied "${reply}")`));
    const received = sink.received[sink.received.length - 1];
    if (!received) {
      throw new RelayError(
        'internal_error',
        'the relay reports delivery, but the upstream has nothing',
      );
    }
    const signedPath = join(dataDir, SIGNED_FILE_NAME);
    writeFileSync(signedPath, received.raw);
    const check = await verifyWithOpensslCli(
      signedPath,
      pki.caPath,
      join(dataDir, 'demo-signer.pem'),
    );
    print(line('signer', check.signer));
    print(line('openssl', check.verdict));
    print(line('signed', signedPath));
    print(line('check it', check.command));
    return { tenantId: tenant.id, messageId, signedPath, caPath: pki.caPath };
  } finally {
    await app?.close();
    await sink?.close();
  }
}
