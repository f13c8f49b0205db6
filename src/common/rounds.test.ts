import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rounds } from './rounds';

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

test('now() runs a round at once instead of waiting for its time', async () => {
  let runs = 0;
  const rounds = new Rounds(async () => {
    runs++;
    return 60_000;
  });
  rounds.start();
  await tick();
  assert.equal(runs, 1, 'the first round at start');
  rounds.now();
  await tick();
  assert.equal(runs, 2, 'a second round long before its 60 s');
  await rounds.stop();
  rounds.now();
  await tick();
  assert.equal(runs, 2, 'nothing after stop()');
});

test('now() during a round runs one more right after it, not two at once', async () => {
  let runs = 0;
  let inFlight = 0;
  let most = 0;
  let release!: () => void;
  const rounds = new Rounds(async () => {
    runs++;
    most = Math.max(most, ++inFlight);
    if (runs === 1) await new Promise<void>((r) => (release = r));
    inFlight--;
    return 60_000;
  });
  rounds.start();
  await tick();
  rounds.now();
  rounds.now();
  await tick();
  assert.equal(runs, 1, 'still in the first round');
  release();
  await tick();
  assert.equal(runs, 2, 'one more round, right after');
  assert.equal(most, 1, 'never two rounds at once');
  await rounds.stop();
});
