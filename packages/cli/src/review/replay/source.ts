/**
 * The recorded calls to replay: the shared call view (review/calls.ts) plus the run
 * attributes and payload markers the replay needs. Streams the source, keeps only the ids seen
 * (duplicates from at-least-once delivery are dropped, as readCalls does).
 */
import * as sc from '@tooltrail/core/semconv';
import type { TrailSpan } from '../../trail/record.js';
import type { VerifySource } from '../../verify/sources.js';
import { readMapped, toCallView, type ReadInfo } from '../calls.js';
import type { ReplayCall } from './replay.js';

const { ATTR_APPROVAL_RULE } = sc;

export function toReplayCall(span: TrailSpan): ReplayCall | undefined {
  const view = toCallView(span);
  if (view === undefined) return undefined;
  const call: ReplayCall = view;
  const a = span.attributes;
  let attrs: Record<string, unknown> | undefined;
  for (const key of Object.keys(a)) {
    if (key.startsWith(sc.ATTR_RUN_ATTRIBUTE_PREFIX)) (attrs ??= {})[key.slice(sc.ATTR_RUN_ATTRIBUTE_PREFIX.length)] = a[key];
  }
  if (attrs) call.runAttributes = attrs;
  const cut = a[sc.ATTR_PAYLOAD_TRUNCATED];
  if (Array.isArray(cut)) call.truncated = cut.filter((x): x is string => typeof x === 'string');
  else if (typeof cut === 'string') call.truncated = [cut];
  if (a[sc.payloadHashAttribute('arguments')] !== undefined) call.argumentsHashed = true;
  const askRule = a[ATTR_APPROVAL_RULE];
  if (typeof askRule === 'string') call.askRule = askRule;
  return call;
}

export type { ReadInfo };

/** The calls of a source in `[since, until)` as replay inputs, each once (see readCalls). */
export function readReplayCalls(source: VerifySource, range: { since?: Date; until?: Date }, onDone?: (info: ReadInfo) => void): AsyncGenerator<ReplayCall> {
  return readMapped(source, range, toReplayCall, onDone);
}
