/**
 * PostgreSQL restarted in the middle of a batch, on a server this test runs itself
 * (initdb/pg_ctl): the relay is one `smtp` process (this one) and two `worker` processes.
 * While the database is down, SMTP clients get a temporary 451 (the message could not be
 * stored) and retry, as platforms do; when it is back the relay carries on by itself and
 * every accepted message reaches the upstream exactly once: a message handed to the upstream
 * while the database went away, before the outcome could be recorded, is remembered with
 * its job and recorded, not sent again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres';
import { allDelivered, eventually, submitter } from '../support/relay';
import { deliveryReport, startScaleOut, submitAll, type ScaleOut } from '../support/scale-out';

const COUNT = 2000;
const DOWN_MS = 10_000;
let pg: PrivatePostgres;
let relay: ScaleOut;

before(async () => {
  pg = await startPrivatePostgres(['relay']);
  relay = await startScaleOut(
    { RECOVERY_INTERVAL_SECONDS: '5', WORKER_CONCURRENCY: '16' },
    { databaseUrl: pg.url('relay') },
  );
});
after(async () => {
  await relay?.stop();
  await pg?.destroy();
});

test('PostgreSQL restarted mid-batch: 451 while it is down, nothing accepted is lost', async (t) => {
  const { app, sink, tenant, workers } = relay;
  const batch = submitAll(app.smtpPort!, tenant, COUNT);
  await eventually(
    async () => (sink.messages.length >= COUNT / 4 ? true : undefined),
    180_000,
    'a quarter delivered',
  );
  // A sender with a session open (logged in) before the database goes away.
  const open = submitter(app.smtpPort!, tenant, 1);
  const warm = await submitAll(app.smtpPort!, tenant, 1, { first: COUNT, via: open });
  const stoppedAt = Date.now();
  const atStop = sink.messages.length;
  await pg.stop('immediate');
  // Newsletters submitted while the database is down: 451 in the open session (the message
  // could not be stored), 454 to a new login; the senders retry.
  const during = submitAll(app.smtpPort!, tenant, 10, { first: COUNT + 1, via: open });
  const fresh = submitAll(app.smtpPort!, tenant, 10, { first: COUNT + 11, connections: 1 });
  await new Promise((r) => setTimeout(r, DOWN_MS));
  const deliveredWhileDown = sink.messages.length - atStop;
  await pg.start();
  const startedAt = Date.now();

  const [main, late, fresher] = await Promise.all([batch, during, fresh]);
  open.close();
  const seqs = [...main.seqs, ...warm.seqs, ...late.seqs, ...fresher.seqs];
  await eventually(
    async () => (new Set(sink.messages.map((m) => m.raw)).size >= seqs.length ? true : undefined),
    300_000,
    'every message at the upstream',
  ).catch(() => undefined);
  await allDelivered(app, 300_000);
  const doneAfterMs = Date.now() - startedAt;
  await new Promise((r) => setTimeout(r, 3000));

  for (const w of workers) assert.equal(w.child.exitCode, null, `a worker exited:\n${w.output}`);
  const refusals = (s: { refusals: Record<number, number> }) => JSON.stringify(s.refusals);
  assert.ok((late.refusals[451] ?? 0) > 0, `451 in the open session: ${refusals(late)}`);
  assert.ok((fresher.refusals[454] ?? 0) > 0, `454 to a new login: ${refusals(fresher)}`);
  const report = deliveryReport(sink, seqs, stoppedAt);
  assert.deepEqual(report.missing, [], 'every accepted message delivered');
  // Messages handed over while the database went away were remembered with their jobs.
  assert.deepEqual(report.duplicates, [], 'no message delivered twice');
  t.diagnostic(
    `stopped after ${atStop} of ${COUNT} deliveries for ${DOWN_MS / 1000} s ` +
      `(${deliveredWhileDown} delivered meanwhile); refusals met by senders: ` +
      `${refusals(main)} in the batch, ${refusals(late)} in a session open before the stop, ` +
      `${refusals(fresher)} on new connections; all ${seqs.length} delivered ${doneAfterMs} ms after the ` +
      `restart; 0 delivered twice`,
  );
});
