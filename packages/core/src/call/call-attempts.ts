/**
 * Attempts already made under caller-supplied call ids, so a framework that re-invokes a tool
 * with the same call id gets attempt 2, 3, ... Bounded: the oldest ids are forgotten first.
 */
export class CallAttempts {
  private readonly seen = new Map<string, number>();
  constructor(private readonly capacity = 10_000) {}

  previous(callId: string): number {
    return this.seen.get(callId) ?? 0;
  }

  record(callId: string, total: number): void {
    this.seen.delete(callId);
    this.seen.set(callId, total);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
