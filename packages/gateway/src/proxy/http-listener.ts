import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { GatewayContext } from './context.js';
import { identityFromToken, type TokenLookup } from './parts.js';
import { Session } from './session.js';

/** Largest JSON-RPC body the gateway reads from an agent. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface HttpListener {
  readonly url: string;
  readonly sessions: number;
  close(): Promise<void>;
}

function answer(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Streamable HTTP for agents: every request carries a bearer token the gateway maps to the
 * connection's principal; one session (one Session, its own upstreams) per `initialize`. A
 * session is only reachable with the token that opened it.
 */
export async function listenHttp(ctx: GatewayContext, tokens: TokenLookup): Promise<HttpListener> {
  const http = ctx.config.listen!.http;
  const endpoint = http.path ?? '/mcp';
  const sessions = new Map<string, { session: Session; transport: StreamableHTTPServerTransport }>();

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
        return answer(res, 400, `Parse error: ${(err as Error).message}`);
      }
    }
    if (typeof sid === 'string') {
      const open = sessions.get(sid);
      // Another token than the session's own is as good as no session: nothing to learn from it.
      if (open === undefined || open.session.identity.principal.id !== identity.principal.id || open.session.identity.principal.type !== identity.principal.type) {
        return answer(res, 404, 'Session not found');
      }
      return open.transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) return answer(res, 400, 'Bad Request: no valid session id, and not an initialize request');
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        session.identity.sessionId = id;
        sessions.set(id, { session, transport });
      },
    });
    const session = new Session(ctx, { ...identity, transport: 'http' }, transport);
    session.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await session.start();
    await transport.handleRequest(req, res, body);
  };

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
    close: async () => {
      await Promise.all([...sessions.values()].map((s) => s.session.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
