import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { GatewayContext } from './context.js';
import { HttpAgentSide } from '../transport/http-agent.js';
import { identityFromToken, type ConnectionIdentity, type TokenLookup } from './parts.js';
import { MAX_MESSAGE_BYTES, messageProblem } from '../transport/jsonrpc-checks.js';
import { Session } from './session.js';

/** Largest JSON-RPC body the gateway reads from an agent. */
export const MAX_BODY_BYTES = MAX_MESSAGE_BYTES;
export const DEFAULT_MAX_SESSIONS = 64;
export const DEFAULT_SESSION_IDLE_MS = 30 * 60_000;

/** A quarter of maxSessions, at least 1: one token cannot take every session. */
export function defaultMaxSessionsPerToken(maxSessions: number): number {
  return Math.max(1, Math.floor(maxSessions / 4));
}

export interface HttpListener {
  readonly url: string;
  readonly sessions: number;
  /** initialize requests refused because maxSessions sessions were open. */
  readonly refusedSessions: number;
  /** initialize requests refused because their token had maxSessionsPerToken sessions open. */
  readonly refusedPerToken: number;
  /** Sessions closed because they were idle for sessionIdleMs. */
  readonly idleClosed: number;
  close(): Promise<void>;
}

function answer(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code: number = -32000, id: string | number | null = null): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id }));
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The body as JSON; a body over the limit is not read to its end (413), one that is not JSON is a parse error. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyError(413, ErrorCode.ParseError, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BodyError(400, ErrorCode.ParseError, 'Parse error: the body is not JSON');
  }
}

/** A session is only reachable with the token that opened it: same writer, same principal. */
function sameConnection(a: ConnectionIdentity, b: ConnectionIdentity): boolean {
  return a.tokenName === b.tokenName && a.principal.id === b.principal.id && a.principal.type === b.principal.type;
}

/**
 * Streamable HTTP for agents: every request carries a bearer token the gateway maps to the
 * connection's principal; one session (one Session, its own upstreams) per `initialize`. A
 * session is only reachable with the token that opened it.
 */
export async function listenHttp(ctx: GatewayContext, tokens: TokenLookup): Promise<HttpListener> {
  const http = ctx.config.listen!.http;
  const endpoint = http.path ?? '/mcp';
  const maxSessions = http.maxSessions ?? DEFAULT_MAX_SESSIONS;
  let stopping = false;
  const idleMs = http.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
  const perToken = http.maxSessionsPerToken ?? defaultMaxSessionsPerToken(maxSessions);
  type Open = { session: Session; transport: HttpAgentSide; lastActive: number; busy: number };
  const sessions = new Map<string, Open>();
  // Sessions whose initialize is under way count against the limit too: they start children.
  let opening = 0;
  // Sessions of each token, open or being opened.
  const ofToken = new Map<string, number>();
  const countToken = (name: string, by: number): void => {
    const n = (ofToken.get(name) ?? 0) + by;
    if (n > 0) ofToken.set(name, n);
    else ofToken.delete(name);
  };
  let refusedSessions = 0;
  let refusedPerToken = 0;
  let idleClosed = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== endpoint) return answer(res, 404, 'not found');
    const identity = identityFromToken(req.headers.authorization, tokens);
    if (identity === undefined) return answer(res, 401, 'a bearer token the gateway knows is needed', { 'www-authenticate': 'Bearer' });
    const sid = req.headers['mcp-session-id'];
    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = await readJson(req);
      } catch (err) {
        if (!(err instanceof BodyError)) throw err;
        return answer(res, err.status, err.message, { connection: 'close' }, err.code);
      }
      // The SDK would call all of these a parse error (or take a batch): say what is wrong, with the id when usable.
      const problem = messageProblem(body);
      if (problem !== undefined) return answer(res, 400, problem.problem, {}, ErrorCode.InvalidRequest, problem.id ?? null);
    }
    if (typeof sid === 'string') {
      const open = sessions.get(sid);
      // Another token than the session's own is as good as no session: nothing to learn from it.
      if (open === undefined || !sameConnection(open.session.identity, identity)) return answer(res, 404, 'Session not found');
      open.lastActive = Date.now();
      // A POST in flight (a long call, its SSE answer) keeps the session from going idle; a GET stream does not.
      if (req.method === 'POST') {
        open.busy++;
        res.once('close', () => {
          open.busy--;
          open.lastActive = Date.now();
        });
      }
      return open.transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) return answer(res, 400, 'Bad Request: no valid session id, and not an initialize request');
    // A stopping gateway opens no session: it would not be waited for.
    if (stopping) return answer(res, 503, 'tooltrail gateway: stopping; no new session', { 'retry-after': '1' });
    if (sessions.size + opening >= maxSessions) {
      refusedSessions++;
      ctx.warn(`tooltrail gateway: initialize refused: ${maxSessions} sessions are open (listen.http.maxSessions); ${refusedSessions} refused so far`);
      return answer(res, 503, `the gateway has ${maxSessions} sessions open (listen.http.maxSessions): try again later`, { 'retry-after': '5' });
    }
    const token = identity.tokenName ?? identity.principal.id;
    if ((ofToken.get(token) ?? 0) >= perToken) {
      refusedPerToken++;
      ctx.warn(`tooltrail gateway: initialize refused: token "${token}" has ${perToken} sessions open (listen.http.maxSessionsPerToken); ${refusedPerToken} refused so far`);
      return answer(res, 503, `this token has ${perToken} sessions open (listen.http.maxSessionsPerToken): close one (DELETE) or try again later`, { 'retry-after': '5' });
    }
    const sdk: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        session.identity.sessionId = id;
        sessions.set(id, { session, transport, lastActive: Date.now(), busy: 0 });
      },
    });
    // Paces the servers by how far the agent is behind on its SSE streams, as on stdio.
    const transport = new HttpAgentSide(sdk, ctx.warn);
    const session = new Session(ctx, { ...identity, transport: 'http' }, transport);
    // The token's slot is held from now until the session is closed (its children stopped).
    countToken(token, 1);
    session.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
      countToken(token, -1);
    };
    opening++;
    try {
      await session.start();
      await transport.handleRequest(req, res, body);
    } catch (err) {
      await session.close();
      throw err;
    } finally {
      opening--;
    }
    // The transport refused the initialize (Accept, content type...): nothing may stay open behind it.
    if (transport.sessionId === undefined || !sessions.has(transport.sessionId)) await session.close();
  };

  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [id, open] of sessions) {
        if (open.busy > 0 || now - open.lastActive < idleMs) continue;
        sessions.delete(id);
        idleClosed++;
        ctx.warn(`tooltrail gateway: session ${id} closed after ${idleMs} ms without a request (listen.http.sessionIdleMs)`);
        void open.session.close();
      }
    },
    Math.max(25, Math.min(idleMs / 4, 60_000)),
  );
  sweep.unref();

  const server: HttpServer = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      ctx.warn(`tooltrail gateway: ${(err as Error).message}`);
      answer(res, 500, 'internal error');
    });
  });
  server.listen(http.port, http.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number; address: string };
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}${endpoint}`,
    get sessions() {
      return sessions.size;
    },
    get refusedSessions() {
      return refusedSessions;
    },
    get refusedPerToken() {
      return refusedPerToken;
    },
    get idleClosed() {
      return idleClosed;
    },
    close: async () => {
      stopping = true;
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((s) => s.session.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
