/**
 * A background task that runs in rounds (the event dispatcher, recovery, the expiry scan):
 * each round says how long to wait before the next. The timer never keeps the process
 * alive, and stop() waits for the round in flight.
 */
export class Rounds {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private busy = false;
  /** now() was called during a round: run another as soon as it ends. */
  private again = false;
  private stopped = false;

  /** `round` must not reject: it handles its own failure and returns the next delay. */
  constructor(private readonly round: () => Promise<number>) {}

  /** True once stop() was called: a long round may end early. */
  get stopping(): boolean {
    return this.stopped;
  }

  start(firstDelayMs = 0): void {
    this.schedule(firstDelayMs);
  }

  /** Run a round at once instead of at its time (or right after the one in flight). */
  now(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.busy = true;
      this.again = false;
      this.running = this.round().then((next) => {
        this.busy = false;
        this.schedule(this.again ? 0 : next);
      });
    }, ms);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
