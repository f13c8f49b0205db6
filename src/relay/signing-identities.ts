/**
 * Decrypted signing identities, kept in memory by certificate id so the worker opens each
 * key once, not once per message. Which certificate a message uses is decided afresh for
 * every message (in the spool's read), so a removed or replaced certificate stops being
 * used at once; its cached entry is dropped when it goes unused for IDLE_MS.
 */
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { CertificateStore } from '../certificates/certificate-store';
import type { SigningIdentity } from '../smime';

const IDLE_MS = 10 * 60_000;
const MAX_ENTRIES = 1000;

@Injectable()
export class SigningIdentities implements OnModuleDestroy {
  private readonly cache = new Map<
    string,
    { identity: Promise<SigningIdentity | undefined>; usedAt: number }
  >();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly store: CertificateStore) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  /** The identity of a certificate; undefined when it is gone. */
  get(tenantId: string, certificateId: string): Promise<SigningIdentity | undefined> {
    const key = `${tenantId}/${certificateId}`;
    const hit = this.cache.get(key);
    if (hit) {
      hit.usedAt = Date.now();
      return hit.identity;
    }
    const identity = this.store.identityById(tenantId, certificateId);
    this.cache.set(key, { identity, usedAt: Date.now() });
    // A failure is not cached: the next message tries again.
    identity.then(
      (v) => v === undefined && this.cache.delete(key),
      () => this.cache.delete(key),
    );
    if (this.cache.size > MAX_ENTRIES) this.sweep(0);
    return identity;
  }

  get size(): number {
    return this.cache.size;
  }

  private sweep(idleMs = IDLE_MS): void {
    const limit = Date.now() - idleMs;
    for (const [key, entry] of this.cache) if (entry.usedAt <= limit) this.cache.delete(key);
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
    this.cache.clear();
  }
}
