/**
 * A background task that runs in rounds (the event dispatcher, recovery, the expiry scan):
 * each round says how long to wait before the next. The timer never keeps the process
 * alive, and stop() waits for the round in flight.
 */
export class Rounds {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
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

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().then((next) => this.schedule(next));
    }, ms);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
