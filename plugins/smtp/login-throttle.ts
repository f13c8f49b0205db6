/**
 * Brakes on guessing SMTP passwords. Failed logins are counted per client address and per
 * username over a window; each failure is answered after a growing delay, and once an
 * address or a username has too many failures it gets a temporary refusal (454) until the
 * lock runs out, whatever password it tries. A successful login clears its username's count
 * (not its address's: one valid account must not reset an attacker's count).
 */

export interface ThrottleSettings {
  /** Failures within the window that lock an address. */
  perAddress: number;
  /** Failures within the window that lock a username. */
  perUsername: number;
  windowMs: number;
  lockMs: number;
  /** The delay after the first failure; it doubles with each further one, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  perAddress: 10,
  perUsername: 20,
  windowMs: 5 * 60_000,
  lockMs: 5 * 60_000,
  baseDelayMs: 200,
  maxDelayMs: 3_000,
};

/** Entries kept at most; the oldest go first (a flood of addresses cannot grow memory). */
const MAX_ENTRIES = 50_000;

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly s: ThrottleSettings = DEFAULT_THROTTLE) {}

  private entry(key: string, now: number): Entry {
    let e = this.entries.get(key);
    if (!e) {
      e = { failures: [], lockedUntil: 0 };
      this.entries.set(key, e);
      if (this.entries.size > MAX_ENTRIES) {
        this.entries.delete(this.entries.keys().next().value as string);
      }
    }
    e.failures = e.failures.filter((t) => t > now - this.s.windowMs);
    return e;
  }

  /** Milliseconds until the address or the username may log in again; 0 when they may now. */
  lockedFor(address: string, username: string, now = Date.now()): number {
    const until = Math.max(
      this.entries.get(`a:${address}`)?.lockedUntil ?? 0,
      this.entries.get(`u:${username}`)?.lockedUntil ?? 0,
    );
    return Math.max(0, until - now);
  }

  /** Records a failure; the delay to wait before answering it. */
  failed(address: string, username: string, now = Date.now()): number {
    let count = 0;
    for (const [key, limit] of [
      [`a:${address}`, this.s.perAddress],
      [`u:${username}`, this.s.perUsername],
    ] as const) {
      const e = this.entry(key, now);
      e.failures.push(now);
      if (e.failures.length >= limit) e.lockedUntil = now + this.s.lockMs;
      count = Math.max(count, e.failures.length);
    }
    return Math.min(this.s.baseDelayMs * 2 ** (count - 1), this.s.maxDelayMs);
  }

  succeeded(username: string): void {
    this.entries.delete(`u:${username}`);
  }
}

/** Connections at once, per client address and in total. */
export class ConnectionLimits {
  private readonly open = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly perAddress: number,
    private readonly overall: number,
  ) {}

  /** Takes a slot; the refusal reason when there is none. */
  take(address: string): 'too_many_total' | 'too_many_from_address' | undefined {
    if (this.total >= this.overall) return 'too_many_total';
    const n = this.open.get(address) ?? 0;
    if (n >= this.perAddress) return 'too_many_from_address';
    this.open.set(address, n + 1);
    this.total++;
    return undefined;
  }

  release(address: string): void {
    const n = this.open.get(address) ?? 0;
    if (n <= 0) return;
    if (n === 1) this.open.delete(address);
    else this.open.set(address, n - 1);
    this.total--;
  }
}
