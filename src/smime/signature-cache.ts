/**
 * Reuses one CMS signature for recipients whose canonical signed entity is byte-identical
 * (only headers outside the signature differ per recipient). Bounded, least recently used.
 */
export interface CachedSignature {
  /** The DER ContentInfo. */
  cms: Buffer;
  /** The signingTime attribute it carries, if any (a hit must still agree with `Date:`). */
  signingTime?: Date;
}

export class SignatureCache {
  private readonly entries = new Map<string, CachedSignature>();
  hits = 0;
  misses = 0;

  constructor(readonly maxEntries = 1000) {}

  get(key: string): CachedSignature | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: CachedSignature): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
