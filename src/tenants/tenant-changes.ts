/**
 * Changes to what Intake reads of a tenant for each message (its signing policy, recipient
 * rules, certificates and delivery settings), announced within this process: Intake keeps
 * that view for a moment and drops a tenant's entries as soon as one of them changes here.
 * Another process (an `api` process beside an `smtp` one) sees the change when its entry
 * expires, within INTAKE_VIEW_TTL_MS.
 */
import { Injectable } from '@nestjs/common';

@Injectable()
export class TenantChanges {
  private readonly listeners = new Set<(tenantId: string) => void>();

  /** Something Intake reads of `tenantId` changed (or the tenant is gone). */
  changed(tenantId: string): void {
    for (const listener of this.listeners) listener(tenantId);
  }

  /** Call `listener` on each change; returns a function that stops it. */
  subscribe(listener: (tenantId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
