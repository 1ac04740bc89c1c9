import type { CallToolRequest } from '@modelcontextprotocol/sdk/types.js';
import { AuditConfigError, type ToolOptions } from '@tooltrail/core';
import {
  ADAPTER_OPTION_KEYS,
  DEPRECATED_REFUSAL_OPTION_KEYS,
  checkAdapterOptions,
  loggerOf,
  isAuditor,
  optionKeys,
  resolveAuditor,
  warnDeprecated,
  warnDeprecatedOption,
  type AdapterOptions,
} from '@tooltrail/core/adapter';

/** The `params` of a `tools/call` request, as `Client.callTool` takes them. */
export type McpCallToolParams = CallToolRequest['params'];

/** Attribute values the adapter adds to a call's record. */
export type McpSpanAttributes = Record<string, string | number | boolean>;

/** Options for one tool, by the name the server gives it. */
export type McpToolOptions = Pick<ToolOptions, 'description' | 'schema' | 'policy' | 'retry' | 'masking' | 'type'>;

export interface AuditMcpClientOptions extends AdapterOptions, Pick<ToolOptions, 'policy' | 'retry' | 'masking' | 'type'> {
  /** Per-tool options (a zod `schema`, extra `policy`, `retry`, `description`), by tool name. */
  tools?: Record<string, McpToolOptions>;
  /** @deprecated Use `onRefusal` (the same values); it applied to invalid calls too. */
  onDenied?: 'result' | 'throw';
  /**
   * The call id (`gen_ai.tool.call.id`) of a call, e.g. the model's tool call id. Default: the
   * string in `params._meta["tooltrail/callId"]`, else core generates one. Reusing an id counts
   * as a retry of that call.
   */
  callId?: (params: McpCallToolParams) => string | undefined;
  /** Extra attributes for every call's record, e.g. `network.transport` or `server.address`. */
  attributes?: McpSpanAttributes;
}

const CLIENT_OPTION_KEYS: readonly string[] = [
  ...ADAPTER_OPTION_KEYS,
  ...optionKeys<Omit<AuditMcpClientOptions, keyof AdapterOptions | 'onDenied'>>({
    policy: true,
    retry: true,
    masking: true,
    type: true,
    tools: true,
    callId: true,
    attributes: true,
  }),
  // Deprecated, still accepted. MCP's `onInvalid` never existed: `onDenied` covered both kinds.
  DEPRECATED_REFUSAL_OPTION_KEYS[0] as string,
];
const TOOL_OPTION_KEYS = optionKeys<McpToolOptions>({ description: true, schema: true, policy: true, retry: true, masking: true, type: true });

const FN = 'auditMcpClient()';

/**
 * The options of `auditMcpClient(client, options)`, also from the deprecated three-argument form
 * `auditMcpClient(client, auditor, options)` (with a one-time warning). Unknown keys (in `retry`,
 * `masking` and each tool's options too) are errors naming the nearest valid name; the keys of
 * `tools` are not checked, since the server's tool names are not known yet.
 */
export function clientOptions(second: unknown, third: unknown): AuditMcpClientOptions {
  let options: unknown = second ?? {};
  if (isAuditor(second)) {
    warnDeprecated('@tooltrail/mcp auditMcpClient(client, auditor, options)', 'auditMcpClient(client, { auditor, ...options })', loggerOf(second));
    checkAdapterOptions(FN, third ?? {}, CLIENT_OPTION_KEYS, { keys: TOOL_OPTION_KEYS, keyedBy: 'tool name' });
    // Two auditors named: which one records the calls would be a guess.
    const named = (third as { auditor?: unknown } | undefined)?.auditor;
    if (named !== undefined && named !== second) throw new AuditConfigError(`${FN}: an auditor is given both as the second argument and as \`options.auditor\`; give it once`);
    options = { ...(third as object | undefined), auditor: second };
  }
  checkAdapterOptions(FN, options, CLIENT_OPTION_KEYS, { keys: TOOL_OPTION_KEYS, keyedBy: 'tool name' });
  const o = options as AuditMcpClientOptions;
  // Here, not at the first call: a wrong auditor fails where the client is wrapped.
  if (o.auditor !== undefined) resolveAuditor(o, FN);
  // `onDenied` always covered invalid calls too: it becomes `onRefusal`, not the per-kind option.
  if (o.onDenied !== undefined) {
    // Both set and disagreeing: neither silently wins (the old name meant the same thing).
    if (o.onRefusal !== undefined && o.onRefusal !== o.onDenied) {
      throw new AuditConfigError(`${FN}: \`onDenied\` (deprecated) and \`onRefusal\` disagree (${JSON.stringify(o.onDenied)} against ${JSON.stringify(o.onRefusal)}); set \`onRefusal\` only`);
    }
    warnDeprecatedOption(o, '@tooltrail/mcp option `onDenied`', '`onRefusal`');
    const { onDenied, ...rest } = o;
    return { onRefusal: onDenied, ...rest };
  }
  return o;
}
