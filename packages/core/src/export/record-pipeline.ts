import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { SpanSink } from '../telemetry/audit-span.js';
import type { RecordSink } from './sink.js';

/**
 * A stage a finished record passes through before export. The integrity chain is one; each
 * stage returns the record to pass on (possibly a new object with more attributes).
 */
export interface RecordStage {
  process(record: ReadableSpan): ReadableSpan;
}

/** Where audit spans go when they end: through the stages, in order, into the sink. */
export class RecordPipeline implements SpanSink {
  constructor(
    private readonly sink: RecordSink,
    private readonly stages: readonly RecordStage[] = [],
  ) {}

  onEnd(span: ReadableSpan): void {
    let record = span;
    for (const stage of this.stages) record = stage.process(record);
    this.sink.write(record);
  }
}
