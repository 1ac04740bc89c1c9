import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';

/** What makes a message JSON-RPC 2.0, checked by the gateway's own readers (the SDK drops a bad one without a word). */

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
