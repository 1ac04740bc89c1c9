import {
  context as contextApi,
  isSpanContextValid,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Span,
  type SpanOptions,
  type TimeInput,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '../contract/semconv.js';
import { AuditSpan, type SpanSink } from './audit-span.js';
import { newSpanId, newTraceId } from './ids.js';
import { SpanKind } from '@opentelemetry/api';

/**
 * The audit spans' own tracer provider. Always samples (an audit trail is not a sample),
 * is never registered as the global provider, and so lives beside whatever the app configured;
 * spans still join the app's trace when the app has an active span.
 */
export class AuditTracerProvider implements TracerProvider {
  readonly resource: Resource;
  private readonly tracers = new Map<string, AuditTracer>();

  constructor(
    serviceName: string,
    private readonly sink: SpanSink,
    resourceAttributes: Record<string, string | number | boolean> = {},
  ) {
    this.resource = resourceFromAttributes({ ...resourceAttributes, [ATTR_SERVICE_NAME]: serviceName });
  }

  getTracer(name: string, version?: string): AuditTracer {
    const key = `${name}@${version ?? ''}`;
    let tracer = this.tracers.get(key);
    if (!tracer) {
      tracer = new AuditTracer(this.resource, version ? { name, version } : { name }, this.sink);
      this.tracers.set(key, tracer);
    }
    return tracer;
  }
}

export class AuditTracer implements Tracer {
  constructor(
    private readonly resource: Resource,
    private readonly scope: InstrumentationScope,
    private readonly sink: SpanSink,
  ) {}

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = contextApi.active()): AuditSpan {
    const span = this.startOwned(name, options.kind ?? SpanKind.INTERNAL, { ...options.attributes }, options.root ? undefined : ctx, options.startTime);
    if (options.links) span.addLinks(options.links);
    return span;
  }

  /** The hot path: `attributes` becomes the span's own object (the caller gives it up). */
  startOwned(name: string, kind: SpanKind, attributes: Attributes, ctx: Context | undefined, startTime?: TimeInput): AuditSpan {
    const parent = ctx === undefined ? undefined : trace.getSpanContext(ctx);
    const validParent = parent !== undefined && isSpanContextValid(parent) ? parent : undefined;
    const spanContext = {
      traceId: validParent ? validParent.traceId : newTraceId(),
      spanId: newSpanId(),
      traceFlags: TraceFlags.SAMPLED,
    };
    return new AuditSpan({ name, kind, context: spanContext, parent: validParent, resource: this.resource, scope: this.scope, sink: this.sink, attributes, startTime });
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    a?: SpanOptions | F,
    b?: Context | F,
    c?: F,
  ): ReturnType<F> {
    const fn = (typeof a === 'function' ? a : typeof b === 'function' ? b : c) as F;
    const options = typeof a === 'object' ? a : {};
    const parent = typeof b === 'object' ? b : contextApi.active();
    const span = this.startSpan(name, options, parent);
    return contextApi.with(trace.setSpan(parent, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
}
