import type { AuditLogger } from '../contract/logger.js';

/**
 * The durable sink's counters and warnings, shared by its parts: nothing leaves the pipeline
 * without moving one of these counters, and every loss is warned about (at most every 5 s).
 */
export class SinkReport {
  readonly counters = { recorded: 0, exported: 0, dropped: 0, failedExports: 0, spooled: 0, replayed: 0, quarantined: 0, damaged: 0 };
  /** The latest problem, with the fix (never cleared: the latest, not the current). */
  lastError: string | undefined;
  private lastDropWarn = 0;

  constructor(readonly logger: AuditLogger) {}

  problem(message: string): void {
    this.lastError = message;
    this.logger.warn(message);
  }

  drop(n: number, why: string): void {
    this.counters.dropped += n;
    this.lastError = `${n} audit record(s) lost: ${why}`;
    const now = Date.now();
    if (now - this.lastDropWarn > 5_000) {
      this.lastDropWarn = now;
      this.logger.warn(`${n} audit record(s) lost: ${why}; ${this.counters.dropped} lost so far`);
    }
  }

  /** Spans delivered, quarantined or lost to damage, counted where they belong. */
  settled(spans: number, how: 'delivered' | 'replayed' | 'quarantined' | 'damaged'): void {
    if (how === 'delivered') this.counters.exported += spans;
    else this.counters[how] += spans;
  }

  lossFree(): boolean {
    return this.counters.dropped === 0 && this.counters.quarantined === 0 && this.counters.damaged === 0;
  }
}
