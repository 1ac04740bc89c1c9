import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { SpanSink } from '../tracing/audit-span.js';
import type { RecordSink, RecordStage } from '../contract/record-sink.js';


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
