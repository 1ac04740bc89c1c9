/**
 * Who is on the other end of one agent connection, as the gateway knows it (never as the agent
 * says): for HTTP, the entry of the bearer token it presented (gateway-tokens.ts); for stdio,
 * the principal the config names for the server entry. Authoritative for every call made on
 * the connection: a run token can only narrow it (run-identity.ts).
 */
export interface ConnectionIdentity {
  principal: { id: string; type?: string };
  agent?: { name?: string; id?: string };
  /** The connection may open runs for other principals (a service serving many users). */
  actForOthers: boolean;
  transport: 'stdio' | 'http';
  sessionId?: string;
  /** The name of the token it authenticated with (the tokens file's `writer`), HTTP only. */
  tokenName?: string;
}

/** Answers an `authorization` header with the identity of its token, or undefined (a 401). */
export interface TokenLookup {
  authenticate(authorization: string | undefined): ConnectionIdentity | undefined;
}

/**
 * The identity of an HTTP connection from its `Authorization: Bearer <token>` header, or
 * undefined when the header is missing or the token unknown (answer 401). A new object on every
 * call: the caller may set `sessionId` on it.
 */
export function identityFromToken(authorization: string | undefined, table: TokenLookup): ConnectionIdentity | undefined {
  return table.authenticate(authorization);
}

/** The identity of a stdio connection: the server entry's principal and agent, from the config. */
export function stdioIdentity(entry: {
  principal: { id: string; type?: string };
  agent?: { name?: string; id?: string };
  actForOthers?: boolean;
}): ConnectionIdentity {
  return {
    principal: copyPrincipal(entry.principal),
    ...(entry.agent === undefined ? {} : { agent: copyAgent(entry.agent) }),
    actForOthers: entry.actForOthers === true,
    transport: 'stdio',
  };
}

export function copyPrincipal(p: { id: string; type?: string }): { id: string; type?: string } {
  return p.type === undefined ? { id: p.id } : { id: p.id, type: p.type };
}

export function copyAgent(a: { name?: string; id?: string }): { name?: string; id?: string } {
  return { ...(a.name === undefined ? {} : { name: a.name }), ...(a.id === undefined ? {} : { id: a.id }) };
}
