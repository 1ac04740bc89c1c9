/**
 * The `tool_changed` records of `tooltrail gateway` (docs/span-schema.md): a tool whose definition
 * a server changed under its pin, recorded when the gateway saw it, whether or not anyone called
 * the tool afterwards. The report lists them in its MCP boundary section.
 */
import * as sc from '@tooltrail/core/semconv';
import type { TrailAttributes, TrailSpan } from '../../trail/record.js';
import type { DefinitionChange } from './model.js';

const ATTR_SERVER = 'tooltrail.mcp.server.name';
const ATTR_HASH_OLD = 'tooltrail.mcp.tool.hash.old';
const ATTR_HASH_NEW = 'tooltrail.mcp.tool.hash.new';
const ATTR_ACTION = 'tooltrail.mcp.tool.action';

/** One definition change as read from its record (`time` in ms since the epoch, for the period). */
export interface ToolChangeView {
  readonly record: typeof sc.RECORD_TOOL_CHANGED;
  traceId: string;
  spanId: string;
  time: number;
  change: DefinitionChange;
  /** The collector writer of its line and its service.name: who wrote it (report/side.ts). */
  writer: string | undefined;
  service: string | undefined;
}

function str(a: TrailAttributes, key: string): string | undefined {
  const v = a[key];
  return typeof v === 'string' ? v : undefined;
}

/** The change a `tooltrail.tool_changed` record describes; undefined for every other record. */
export function toToolChange(span: TrailSpan, writer?: string): ToolChangeView | undefined {
  const a = span.attributes;
  if (span.name !== `${sc.EVENT_SPAN_PREFIX}${sc.RECORD_TOOL_CHANGED}` || str(a, sc.ATTR_RECORD) !== sc.RECORD_TOOL_CHANGED) return undefined;
  const ns = Number(span.startTimeUnixNano);
  const time = Number.isFinite(ns) ? ns / 1e6 : 0;
  const change: DefinitionChange = {
    time: new Date(time).toISOString(),
    tool: str(a, sc.ATTR_GEN_AI_TOOL_NAME) ?? '',
    server: str(a, ATTR_SERVER),
    hashOld: str(a, ATTR_HASH_OLD) ?? '',
    hashNew: str(a, ATTR_HASH_NEW) ?? '',
    action: str(a, ATTR_ACTION) ?? '',
    principal: str(a, sc.ATTR_USER_ID),
    runId: str(a, sc.ATTR_RUN_ID),
    traceId: span.traceId,
  };
  const service = span.resource[sc.ATTR_SERVICE_NAME];
  return { record: sc.RECORD_TOOL_CHANGED, traceId: span.traceId, spanId: span.spanId, time, change, writer, service: typeof service === 'string' ? service : undefined };
}
