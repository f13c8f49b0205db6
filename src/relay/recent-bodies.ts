/**
 * Bodies of messages this process accepted a moment ago, so that a worker in the same
 * process need not read them back from the database, with the entity Intake prepared for
 * signing when it did (so the worker does not walk the MIME tree again). Bounded in bytes
 * (a prepared entity counts as much again as its body); the oldest go first. The spool
 * stays the source of truth: a miss simply reads the row.
 */
import { Injectable } from '@nestjs/common';
import type { PreparedMessage } from '../smime';

const DEFAULT_LIMIT = 64 * 1024 * 1024;

export interface RecentBody {
  raw: Buffer;
  /** prepareMessage(raw), when Intake made it. */
  prepared?: PreparedMessage;
}

const sizeOf = (b: RecentBody): number => b.raw.length * (b.prepared ? 2 : 1);

@Injectable()
export class RecentBodies {
  private readonly bodies = new Map<string, RecentBody>();
  private bytes = 0;

  constructor(private readonly limitBytes = DEFAULT_LIMIT) {}

  put(messageId: string, raw: Buffer, prepared?: PreparedMessage): void {
    const body = { raw, prepared };
    if (sizeOf(body) > this.limitBytes / 4) return;
    this.bodies.set(messageId, body);
    this.bytes += sizeOf(body);
    for (const [id, kept] of this.bodies) {
      if (this.bytes <= this.limitBytes) break;
      this.bodies.delete(id);
      this.bytes -= sizeOf(kept);
    }
  }

  /** The body, removed from the cache (a message is delivered once). */
  take(messageId: string): RecentBody | undefined {
    const body = this.bodies.get(messageId);
    if (body) {
      this.bodies.delete(messageId);
      this.bytes -= sizeOf(body);
    }
    return body;
  }

  get size(): number {
    return this.bodies.size;
  }
}
