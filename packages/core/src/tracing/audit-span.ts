import {
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type AttributeValue,
  type Exception,
  type HrTime,
  type Link,
  type Span,
  type SpanContext,
  type SpanStatus,
  type TimeInput,
} from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { hrTimeDiff, nowHrTime, toHrTime } from './clock.js';
import { ATTR_EXCEPTION_MESSAGE, ATTR_EXCEPTION_STACKTRACE, ATTR_EXCEPTION_TYPE, EVENT_EXCEPTION } from '../contract/semconv.js';

/** Receives each span once, when it ends. */
export interface SpanSink {
  onEnd(span: ReadableSpan): void;
}

/** What a span is made of; the tracer builds it (tests may too). */
export interface AuditSpanInit {
  readonly name: string;
  readonly kind: SpanKind;
  readonly context: SpanContext;
  readonly parent: SpanContext | undefined;
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
  readonly sink: SpanSink;
  /** Adopted, not copied: the tracer copies attributes that come from outside. */
  readonly attributes: Attributes;
  readonly startTime?: TimeInput | undefined;
}

const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
// Shared empty arrays, replaced on first write: most audit spans have no links and no events.
const NO_LINKS: Link[] = [];
const NO_EVENTS: TimedEvent[] = [];
const MAX_EVENTS = 128;

/**
 * The audit span: both the API's writable Span and the SDK's ReadableSpan, so OTel exporters
 * (the in-memory one in tests, any user-supplied one) take it as it is. Leaner than the SDK's
 * span because it needs none of its sampling, limits or metrics: an audit span is always
 * recorded, and payload size is capped by the masking layer, which says when it cut.
 */
export class AuditSpan implements Span, ReadableSpan {
  readonly startTime: HrTime;
  endTime: HrTime = [0, 0];
  status: SpanStatus = UNSET;
  attributes: Attributes;
  links: Link[] = NO_LINKS;
  events: TimedEvent[] = NO_EVENTS;
  ended = false;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;

  name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  private readonly context: SpanContext;
  private readonly sink: SpanSink;

  constructor(init: AuditSpanInit) {
    this.name = init.name;
    this.kind = init.kind;
    this.context = init.context;
    this.parentSpanContext = init.parent;
    this.resource = init.resource;
    this.instrumentationScope = init.scope;
    this.sink = init.sink;
    this.startTime = init.startTime === undefined ? nowHrTime() : toHrTime(init.startTime);
    this.attributes = init.attributes;
  }

  spanContext(): SpanContext {
    return this.context;
  }

  get duration(): HrTime {
    return this.ended ? hrTimeDiff(this.startTime, this.endTime) : [0, 0];
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (!this.ended && value !== undefined && value !== null && key !== '') this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    if (this.ended) return this;
    for (const key in attributes) {
      const value = attributes[key];
      if (value !== undefined && value !== null && key !== '') this.attributes[key] = value;
    }
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    let attributes: Attributes | undefined;
    let at: TimeInput | undefined = time;
    if (isTimeInput(attributesOrTime)) at = attributesOrTime;
    else attributes = attributesOrTime;
    if (this.events.length >= MAX_EVENTS) {
      this.droppedEventsCount++;
      return this;
    }
    if (this.events === NO_EVENTS) this.events = [];
    this.events.push({ name, time: toHrTime(at), attributes: attributes ?? {}, droppedAttributesCount: 0 });
    return this;
  }

  addLink(link: Link): this {
    if (!this.ended) (this.links === NO_LINKS ? (this.links = []) : this.links).push(link);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const l of links) this.addLink(l);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (!this.ended) this.status = status;
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.endTime = toHrTime(endTime);
    this.ended = true;
    this.sink.onEnd(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attrs: Attributes = {};
    if (typeof exception === 'string') attrs[ATTR_EXCEPTION_MESSAGE] = exception;
    else {
      if (exception.name) attrs[ATTR_EXCEPTION_TYPE] = exception.name;
      if (exception.message) attrs[ATTR_EXCEPTION_MESSAGE] = exception.message;
      if (exception.stack) attrs[ATTR_EXCEPTION_STACKTRACE] = exception.stack;
    }
    this.addEvent(EVENT_EXCEPTION, attrs, time);
  }
}

function isTimeInput(v: unknown): v is TimeInput {
  return typeof v === 'number' || v instanceof Date || (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number');
}

export { SpanKind };
