import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { AuditLogger } from '../contract/logger.js';
import type { SinkStats } from '../contract/record-sink.js';
import { OUTCOME_PENDING_APPROVAL, type Outcome } from '../contract/semconv.js';
import { describeError } from '../payload/safe-json.js';
import type { AuditStats } from './types.js';

/** What an auditor counts beside its sink: outcomes, and the records it lost on the way. */
export class AuditCounters {
  private readonly outcomes = { ok: 0, error: 0, denied: 0, invalid: 0 };
  recordErrors = 0;
  unfinishedCalls = 0;
  lateRecords = 0;
  pendingApprovals = 0;
  private lastRecordWarning = 0;

  constructor(private readonly logger: AuditLogger) {}

  countOutcome(outcome: Outcome): void {
    if (outcome === OUTCOME_PENDING_APPROVAL) this.pendingApprovals++;
    else this.outcomes[outcome]++;
  }

  /** A record could not be written (the record path threw): counted, warned about at most every 5 s. */
  recordFailed(err: unknown): void {
    this.recordErrors++;
    const now = Date.now();
    if (now - this.lastRecordWarning > 5_000) {
      this.lastRecordWarning = now;
      this.logger.warn(`an audit record could not be written (${describeError(err)}); ${this.recordErrors} lost this way so far`);
    }
  }

  /** A record finishing after the stream ended: counted and warned about, not appended. */
  late(span: ReadableSpan): void {
    this.lateRecords++;
    this.logger.warn(
      `audit record "${span.name}" finished after the stream ended (shutdown or exit) and was not kept; ` +
        `the trail holds its call's unfinished record; ${this.lateRecords} such so far`,
    );
  }

  /** No record lost before the sink (which cannot see such losses itself). */
  get clean(): boolean {
    return this.recordErrors === 0 && this.lateRecords === 0;
  }

  stats(sink: SinkStats, maskingFailures: number, policyReloadFailures: number): AuditStats {
    return {
      ...sink,
      calls: { ...this.outcomes },
      maskingFailures,
      recordErrors: this.recordErrors,
      unfinishedCalls: this.unfinishedCalls,
      lateRecords: this.lateRecords,
      pendingApprovals: this.pendingApprovals,
      policyReloadFailures,
    };
  }
}
