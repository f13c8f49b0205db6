/**
 * Bodies of messages this process accepted a moment ago, so that a worker in the same
 * process need not read them back from the database. Bounded in bytes; the oldest go first.
 * The spool stays the source of truth: a miss simply reads the row.
 */
import { Injectable } from '@nestjs/common';

const DEFAULT_LIMIT = 64 * 1024 * 1024;

@Injectable()
export class RecentBodies {
  private readonly bodies = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly limitBytes = DEFAULT_LIMIT) {}

  put(messageId: string, raw: Buffer): void {
    if (raw.length > this.limitBytes / 4) return;
    this.bodies.set(messageId, raw);
    this.bytes += raw.length;
    for (const [id, body] of this.bodies) {
      if (this.bytes <= this.limitBytes) break;
      this.bodies.delete(id);
      this.bytes -= body.length;
    }
  }

  /** The body, removed from the cache (a message is delivered once). */
  take(messageId: string): Buffer | undefined {
    const body = this.bodies.get(messageId);
    if (body) {
      this.bodies.delete(messageId);
      this.bytes -= body.length;
    }
    return body;
  }

  get size(): number {
    return this.bodies.size;
  }
}
