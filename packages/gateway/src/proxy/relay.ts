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

/** Largest JSON-RPC message the gateway reads from an agent or a server: an HTTP body, or one stdio line. */
export const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

type Id = string | number;
const isId = (v: unknown): v is Id => typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What is wrong with a message that is JSON but not JSON-RPC, and the id it carries when it has a usable one. */
export interface MessageProblem {
  readonly problem: string;
  readonly id: Id | undefined;
  /** It has no method: it meant to be a response (a stray one is ignored, never answered). */
  readonly response: boolean;
}

/**
 * The first thing that makes a parsed line not one JSON-RPC 2.0 message, or undefined when it is
 * one. Mirrors the SDK's message schema, which drops such a message without a word: the
 * gateway says what was wrong instead (to the agent as an error, or in place of the server's answer).
 */
export function messageProblem(raw: unknown): MessageProblem | undefined {
  if (Array.isArray(raw)) return { problem: 'a batch (JSON array) is not supported: send one message at a time', id: undefined, response: false };
  if (!isObject(raw)) return { problem: 'a message must be a JSON object', id: undefined, response: false };
  const id = isId(raw.id) ? raw.id : undefined;
  const response = !('method' in raw) && ('result' in raw || 'error' in raw);
  const bad = (problem: string): MessageProblem => ({ problem, id, response });
  if (raw.jsonrpc !== '2.0') return bad('"jsonrpc" must be "2.0"');
  if ('id' in raw && raw.id !== undefined && id === undefined) return bad('"id" must be a string or an integer');
  if ('method' in raw) {
    if (typeof raw.method !== 'string' || raw.method === '') return bad('"method" must be a non-empty string');
    if ('params' in raw && raw.params !== undefined && !isObject(raw.params)) return bad('"params" must be an object');
    if ('result' in raw || 'error' in raw) return bad('a request carries no "result" or "error"');
    return undefined;
  }
  if ('result' in raw && 'error' in raw) return bad('a response has both result and error');
  if ('result' in raw) {
    if (id === undefined) return bad('a result needs an "id"');
    return isObject(raw.result) ? undefined : bad('"result" must be an object');
  }
  if ('error' in raw) {
    const e = raw.error;
    return isObject(e) && Number.isInteger(e.code) && typeof e.message === 'string' ? undefined : bad('"error" must be { code: integer, message: string }');
  }
  return bad(id === undefined ? 'a message needs a "method" (or a "result" or "error")' : 'a request needs a "method"');
}

/** The error a broken response of a server is replaced with: its caller is answered now, not at its timeout. */
export function invalidResponse(server: string, id: Id, problem: string): { jsonrpc: '2.0'; id: Id; error: { code: number; message: string } } {
  return { jsonrpc: '2.0', id, error: { code: ErrorCode.InternalError, message: `server "${server}" sent an invalid response: ${problem}` } };
}

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
