/**
 * The records of the requests the gateway forwards besides `tools/call` (docs/gateway.md, "What
 * else is recorded"). `prompts/get` arguments, a `resources/read` URI, a completion's argument
 * reach a server from the agent; `sampling/createMessage`, `elicitation/create` reach the agent
 * from a server. Either way the data crosses the boundary: each such request is one event
 * (`auditor.recordEvent`), written before it is forwarded, like a call's record of intent.
 * Lists, `initialize`, `ping` and notifications are not recorded (they are the protocol's own
 * bookkeeping, or a tool's definitions, which pins record when they change).
 */
import type { AuditEventInput, Auditor } from '@tooltrail/core';
import { worthWarning } from '../shared/worth-warning.js';

/** An agent-to-server request the gateway forwarded. */
export const RECORD_MCP_REQUEST = 'mcp_request';
/** A server-to-agent request the gateway relayed. */
export const RECORD_MCP_SERVER_REQUEST = 'mcp_server_request';
/** JSON of the request's params as they were sent on (masked like any attribute; core's payload cap applies). */
export const ATTR_MCP_PARAMS = 'tooltrail.mcp.params';
/** Bytes of that JSON before masking: a reader can tell a capped `tooltrail.mcp.params` from a whole one. */
export const ATTR_MCP_PARAMS_BYTES = 'tooltrail.mcp.params.bytes';
/** OpenTelemetry's MCP conventions: the prompt of `prompts/get` (and of a `ref/prompt` completion), as the agent named it. */
export const ATTR_GEN_AI_PROMPT_NAME = 'gen_ai.prompt.name';
/** OpenTelemetry's MCP conventions: the resource of `resources/*` (and of a `ref/resource` completion). */
export const ATTR_MCP_RESOURCE_URI = 'mcp.resource.uri';

export type FailMode = 'open' | 'closed';

/**
 * The failMode the auditor runs with: its own when it says (core's auditor does, though the
 * `Auditor` interface does not name it), else the config's, with core's default (closed under
 * strict durability).
 */
export function failModeOf(auditor: Auditor, audit: { failMode?: FailMode | undefined; durability?: 'buffered' | 'strict' | undefined } | undefined): FailMode {
  const own = (auditor as { failMode?: unknown }).failMode;
  if (own === 'open' || own === 'closed') return own;
  return audit?.failMode ?? (audit?.durability === 'strict' ? 'closed' : 'open');
}

type Attrs = Record<string, string | number | boolean>;

/** The routing target the agent named in an agent request's params (as the agent sent them). */
function targetAttributes(method: string, params: Record<string, unknown>): Attrs {
  const out: Attrs = {};
  if (method === 'prompts/get' && typeof params.name === 'string') out[ATTR_GEN_AI_PROMPT_NAME] = params.name;
  else if (method.startsWith('resources/') && typeof params.uri === 'string') out[ATTR_MCP_RESOURCE_URI] = params.uri;
  else if (method === 'completion/complete' && typeof params.ref === 'object' && params.ref !== null) {
    const ref = params.ref as Record<string, unknown>;
    if (ref.type === 'ref/prompt' && typeof ref.name === 'string') out[ATTR_GEN_AI_PROMPT_NAME] = ref.name;
    if (ref.type === 'ref/resource' && typeof ref.uri === 'string') out[ATTR_MCP_RESOURCE_URI] = ref.uri;
  }
  return out;
}

/**
 * The event of one forwarded request. `connection` holds the MCP attributes of the connection
 * and the request (method, JSON-RPC id, transport, session, server); `agentParams` are the
 * params as the agent sent them (the prompt name it used), `sentParams` as they went on.
 */
export function requestEvent(kind: typeof RECORD_MCP_REQUEST | typeof RECORD_MCP_SERVER_REQUEST, connection: Attrs, method: string, agentParams: Record<string, unknown>, sentParams: unknown): AuditEventInput {
  const attributes: Attrs = { ...connection };
  if (kind === RECORD_MCP_REQUEST) Object.assign(attributes, targetAttributes(method, agentParams));
  if (sentParams !== undefined) {
    // Parsed JSON-RPC: nothing here that JSON.stringify cannot write.
    const json = JSON.stringify(sentParams);
    attributes[ATTR_MCP_PARAMS] = json;
    attributes[ATTR_MCP_PARAMS_BYTES] = Buffer.byteLength(json);
  }
  return { kind, attributes };
}

/** What to do with a request once its record was tried: forward it, or refuse it with `reason`. */
export type RecordVerdict = { forward: true } | { forward: false; reason: string };

/** The gateway's records of forwarded requests: one per gateway, shared by its connections. */
export class RequestRecords {
  /** Records not kept and forwarded anyway (failMode open). */
  lost = 0;

  constructor(
    readonly failMode: FailMode,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * Writes the event (`write` runs it inside the connection's run) and decides. A record that
   * could not be kept refuses the request under failMode `closed` (nothing crosses the boundary
   * unrecorded, as with a call) and lets it through under `open` (core counts the loss; the
   * gateway warns at the 1st, 10th, 100th...). A record that threw (the auditor shut down, the
   * connection's runs closed) refuses it whatever the mode: a call is refused then too.
   */
  async record(write: (event: AuditEventInput) => Promise<boolean>, event: AuditEventInput, what: string): Promise<RecordVerdict> {
    let kept: boolean;
    try {
      kept = await write(event);
    } catch (err) {
      return { forward: false, reason: `${what} was not forwarded: its record could not be written (${(err as Error).message})` };
    }
    if (kept) return { forward: true };
    if (this.failMode === 'closed') return { forward: false, reason: `${what} was not forwarded: its record could not be kept and the gateway's audit failMode is closed` };
    this.lost++;
    if (worthWarning(this.lost)) this.warn(`tooltrail gateway: the record of ${what} could not be kept (see the audit warnings); forwarded anyway, audit failMode open (${this.lost} so far)`);
    return { forward: true };
  }
}
