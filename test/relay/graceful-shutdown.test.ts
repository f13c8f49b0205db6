/**
 * SIGTERM: the relay stops taking SMTP connections, finishes the messages it is sending,
 * records them, and exits 0. What it had not started stays queued for the next worker.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startApp, type TestApp } from '../support/app';
import { startSink, type SmtpSink } from '../helpers/smtp-sink';
import { freePort } from '../helpers/ports';
import { eventually, seqOf, setupTenant, submitBatch, type RelayTenant } from '../support/relay';
import { spawnRelay, spawnWorker, type WorkerProcess } from '../support/worker-process';

let app: TestApp;
let sink: SmtpSink;
let tenant: RelayTenant;
const children: WorkerProcess[] = [];

before(async () => {
  sink = await startSink({ delayMs: 1500 });
  app = await startApp({}, { role: 'api' });
  tenant = await setupTenant(app, sink.port);
});
after(async () => {
  for (const c of children) c.child.kill('SIGKILL');
  await app?.close();
  await sink?.stop();
});

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

test('SIGTERM finishes the messages in flight and exits 0', async () => {
  const smtpPort = await freePort();
  const relay = await spawnRelay(app, 'all', {
    SMTP_PORT: String(smtpPort),
    WORKER_CONCURRENCY: '2',
  });
  children.push(relay);
  await relay.ready;
  const COUNT = 10;
  const seqs = Array.from({ length: COUNT }, (_, i) => i);
  await submitBatch(smtpPort, tenant, seqs, 2);
  // Two messages are now being sent to the slow upstream.
  await eventually(async () => {
    const [r] = await app.db.session.query<{ n: string }>(
      "SELECT count(*) AS n FROM messages WHERE state = 'queued'",
    );
    return Number(r.n) <= COUNT ? true : undefined;
  });
  await new Promise((r) => setTimeout(r, 500));
  relay.child.kill('SIGTERM');
  const code = await relay.exited;
  assert.equal(code, 0, relay.output.join(''));
  assert.ok(await refused(smtpPort), 'the SMTP port is closed');

  const rows = await app.db.session.query<{ state: string; n: string }>(
    'SELECT state, count(*) AS n FROM messages GROUP BY state',
  );
  const by = Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  // Everything the upstream accepted is recorded as delivered; nothing is half done.
  assert.equal(by.delivered ?? 0, sink.messages.length, JSON.stringify(by));
  assert.ok(
    sink.messages.length >= 1 && sink.messages.length < COUNT,
    `${sink.messages.length} sent before exit`,
  );
  assert.equal((by.delivered ?? 0) + (by.queued ?? 0), COUNT, JSON.stringify(by));

  sink.delayMs = 0;
  const worker = await spawnWorker(app);
  children.push(worker);
  await sink.waitFor(COUNT, 60_000);
  const delivered = sink.messages.map((m) => seqOf(m.raw));
  assert.deepEqual(
    [...delivered].sort((a, b) => a - b),
    seqs,
    'the rest delivered, each once',
  );
});
