/**
 * A record that is not a call: something the recorder saw that the trail must hold though no
 * call carries it (a tool's definition changing under its pin before anyone calls it). One
 * zero-length span `tooltrail.<kind>` with `tooltrail.record = <kind>`, under the active run (its
 * identity attributes, its span or the app's active span as parent), through the same record path
 * as calls: masked, chained, exported, and committed under strict durability.
 */
import { context, SpanKind, trace, type Attributes, type Context } from '@opentelemetry/api';
import { AuditConfigError } from '../contract/errors.js';
import { auditStorage, type AuditStore } from '../identity/run-context.js';
import { EncodeReport } from '../payload/encode-report.js';
import * as sc from '../contract/semconv.js';
import { correlationText } from '../identity/identity-attributes.js';
import { adapterAttributes, maskAdapterAttributes } from './adapter-attributes.js';
import type { InvokeEngine } from './engine.js';

export interface AuditEventInput {
  /** What happened, lower-case snake_case (`tool_changed`): the span is `tooltrail.<kind>`. */
  kind: string;
  /** The tool the event is about, recorded as `gen_ai.tool.name` (masked as a call's name is). */
  tool?: string | undefined;
  /** The event's facts: masked as a call's adapter attributes are; names core writes itself are dropped. */
  attributes?: Attributes | undefined;
}

const KIND = /^[a-z][a-z0-9_]{0,62}$/;

function parentOf(store: AuditStore | undefined): Context {
  const active = context.active();
  if (store?.runContext === undefined || trace.getSpan(active) !== undefined) return active;
  return store.runContext;
}

/** Checks the input (AuditConfigError: a caller's mistake, not a lost record). */
export function checkEventInput(input: AuditEventInput): void {
  if (typeof input?.kind !== 'string' || !KIND.test(input.kind)) {
    throw new AuditConfigError(`recordEvent: kind must be lower-case snake_case (${KIND.source}), not ${JSON.stringify(input?.kind)}`);
  }
  if (input.tool !== undefined && (typeof input.tool !== 'string' || input.tool === '')) throw new AuditConfigError('recordEvent: tool must be a non-empty string');
}

/**
 * Writes the event's record. True when it was written (and, under strict durability, made
 * durable); false when the record path lost it (counted and warned about by recordFailed), or
 * under failMode 'closed' when the trail is in the state that refuses calls.
 */
export function recordAuditEvent(engine: InvokeEngine, input: AuditEventInput): boolean {
  // Under failMode 'closed', the state in which calls are refused (records neither delivered nor
  // kept) answers false too, so a caller gating on the answer refuses what a call would be refused
  // for. The record is still written: held in memory, it may yet be delivered.
  const refused = engine.refusal() !== undefined;
  const store = auditStorage.getStore();
  const tool = input.tool ?? input.kind;
  const extra = input.attributes === undefined ? undefined : adapterAttributes(input.attributes);
  const a: Attributes = store?.run ? Object.assign({}, engine.runAttributes(store.run)) : {};
  if (extra !== undefined) Object.assign(a, maskAdapterAttributes(extra, { encoder: engine.encoder, tool, masking: undefined, report: new EncodeReport() }));
  if (input.tool !== undefined) a[sc.ATTR_GEN_AI_TOOL_NAME] = correlationText(engine.encoder, input.tool, { tool, masking: undefined });
  a[sc.ATTR_RECORD] = input.kind;
  try {
    const span = engine.tracer.startOwned(`${sc.EVENT_SPAN_PREFIX}${input.kind}`, SpanKind.INTERNAL, a, parentOf(store));
    // Zero-length: an event is a moment, not a span of work.
    span.end(span.startTime);
  } catch (err) {
    engine.recordFailed(err);
    return false;
  }
  if (engine.durability !== 'strict') return !refused;
  try {
    return engine.commit() && !refused;
  } catch (err) {
    engine.recordFailed(err);
    return false;
  }
}
