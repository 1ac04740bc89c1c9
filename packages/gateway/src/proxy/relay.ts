import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, ResultSchema, type Implementation, type Result, type ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';

/**
 * An error answered to the other side as the JSON-RPC error it came as: the SDK replies with a
 * thrown error's `code`, `message` and `data`; McpError's own message carries a prefix that
 * would pile up at every hop, so the original words are kept.
 */
export class RelayedError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RelayedError';
  }
}

const PREFIX = /^MCP error -?\d+: /;

/**
 * The error the peer sent (or the SDK raised: timeout, closed connection), as a relayable one.
 * With `server`, a transport failure names the server it came from (and an HTTP status).
 */
export function relayed(err: unknown, server?: string): RelayedError {
  if (err instanceof RelayedError) return err;
  if (err instanceof McpError) return new RelayedError(err.code, err.message.replace(PREFIX, ''), err.data);
  if (err instanceof Error && err.name === 'AbortError') return new RelayedError(ErrorCode.RequestTimeout, 'the request was cancelled');
  const message = err instanceof Error ? err.message : String(err);
  if (server === undefined) return new RelayedError(ErrorCode.InternalError, message);
  if (err instanceof StreamableHTTPError) {
    const detail = message.replace(/^Streamable HTTP error: /, '');
    const status = typeof err.code === 'number' && err.code > 0 ? `HTTP ${err.code}: ` : '';
    return new RelayedError(ErrorCode.InternalError, `server "${server}" answered ${status}${detail}`);
  }
  return new RelayedError(ErrorCode.InternalError, `server "${server}": ${message}`);
}

export function methodNotFound(method: string): RelayedError {
  return new RelayedError(ErrorCode.MethodNotFound, `Method not found: ${method}`);
}

export function invalidParams(message: string): RelayedError {
  return new RelayedError(ErrorCode.InvalidParams, message);
}

/** Any result, as it came: the gateway does not reshape what it forwards. */
export const PassThroughResult = ResultSchema;
export type PassThrough = Result;

type Flags = Record<string, unknown>;

/** The capabilities the agent sees: the union of the upstreams' (without tasks, which the gateway does not relay). */
export function mergeCapabilities(all: readonly ServerCapabilities[]): ServerCapabilities {
  const out: Record<string, Flags> = {};
  for (const caps of all) {
    for (const [key, value] of Object.entries(caps)) {
      if (key === 'tasks' || value === undefined || value === null || typeof value !== 'object') continue;
      const into = (out[key] ??= {});
      for (const [flag, v] of Object.entries(value as Flags)) if (v === true || into[flag] === undefined) into[flag] = v;
    }
  }
  return out as ServerCapabilities;
}

/** With one server the agent sees that server's name and version; with several, the gateway's. */
export function serverInfoFor(serviceName: string, version: string, infos: readonly (Implementation | undefined)[]): Implementation {
  if (infos.length === 1 && infos[0] !== undefined) return infos[0];
  return { name: serviceName, version };
}

/** Names are prefixed with the server's name when more than one server is configured. */
export const NAME_SEPARATOR = '__';

export function exposedName(server: string, name: string, prefixed: boolean): string {
  return prefixed ? `${server}${NAME_SEPARATOR}${name}` : name;
}

/** The server and its own name for an exposed name, or undefined when no server has that prefix. */
export function splitName(exposed: string, servers: readonly string[], prefixed: boolean): { server: string; name: string } | undefined {
  if (!prefixed) return servers[0] !== undefined ? { server: servers[0], name: exposed } : undefined;
  const server = servers.find((s) => exposed.startsWith(`${s}${NAME_SEPARATOR}`) && exposed.length > s.length + NAME_SEPARATOR.length);
  return server === undefined ? undefined : { server, name: exposed.slice(server.length + NAME_SEPARATOR.length) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Why a `tools/call` result is not a CallToolResult, or undefined. Checked by hand (not zod) on
 * the hot path; a result the agent's SDK would reject must not be recorded as a success.
 */
export function toolResultProblem(result: Record<string, unknown>): string | undefined {
  // The SDK defaults a missing content to []: only a present one must be a list.
  if (result.content !== undefined) {
    if (!Array.isArray(result.content)) return 'content must be an array';
    if (!result.content.every((c) => isObject(c) && typeof c.type === 'string')) return 'every content block must be an object with a string "type"';
  }
  if (result.isError !== undefined && typeof result.isError !== 'boolean') return 'isError must be a boolean';
  if (result.structuredContent !== undefined && !isObject(result.structuredContent)) return 'structuredContent must be an object';
  return undefined;
}
