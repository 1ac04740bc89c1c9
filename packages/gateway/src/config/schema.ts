import { z } from 'zod';

/** The config file of `tooltrail gateway`: strict at every level, unknown keys are errors. */

const nonEmpty = (what: string) => z.string().trim().min(1, `${what} must be a non-empty string`);
const timeoutMs = z.number().int().positive().max(2_147_483_647);

const httpUrl = (what: string) =>
  z.string().refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, `${what} must be an http(s) URL`);

const principalSchema = z.strictObject({ id: nonEmpty('principal.id'), type: nonEmpty('principal.type').optional() });
const agentSchema = z.strictObject({ name: nonEmpty('agent.name').optional(), id: nonEmpty('agent.id').optional() });

const stdioSchema = z.strictObject({
  command: nonEmpty('stdio.command'),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  cwd: nonEmpty('stdio.cwd').optional(),
});

const upstreamHttpSchema = z.strictObject({
  url: httpUrl('http.url'),
  headers: z.record(z.string(), z.string()).optional(),
});

export const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const serverSchema = z
  .strictObject({
    name: z.string().regex(SERVER_NAME, 'name must be letters, digits, _ or - (at most 64), starting with a letter or digit'),
    principal: principalSchema.optional(),
    agent: agentSchema.optional(),
    stdio: stdioSchema.optional(),
    http: upstreamHttpSchema.optional(),
    /** How long one forwarded request may take before it is cancelled upstream (default 60 000). */
    requestTimeoutMs: timeoutMs.optional(),
  })
  .refine((s) => (s.stdio === undefined) !== (s.http === undefined), { message: 'a server needs exactly one of stdio or http' });

const auditSchema = z.strictObject({
  endpoint: httpUrl('audit.endpoint').optional(),
  token: nonEmpty('audit.token').optional(),
  headers: z.record(z.string(), z.string()).optional(),
  spoolDir: nonEmpty('audit.spoolDir').optional(),
  durability: z.enum(['buffered', 'strict']).optional(),
  failMode: z.enum(['open', 'closed']).optional(),
  // Checked by core where the masking options are compiled.
  masking: z.union([z.literal(false), z.record(z.string(), z.unknown())]).optional(),
  /** How long a stopping gateway waits for its records to be delivered (default 30 000); the rest stay spooled. */
  shutdownTimeoutMs: timeoutMs.optional(),
  /** Checkpoint signing key (PEM file), as core's integrity.signingKey. */
  signingKey: nonEmpty('audit.signingKey').optional(),
});

const approvalSchema = z.union([
  z.strictObject({
    command: z.array(z.string()).min(1, 'approval.command needs the program'),
    timeoutMs: timeoutMs.optional(),
    /** Added to the hook's minimal environment (the SDK's default one), never the gateway's whole environment. */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'approval.env names must be environment variable names'), z.string().refine((v) => !v.includes('\0'), 'approval.env values must not hold NUL')).optional(),
    /** The hook's working directory, relative to the config's folder. */
    cwd: nonEmpty('approval.cwd').optional(),
  }),
  z.strictObject({ url: httpUrl('approval.url'), timeoutMs: timeoutMs.optional(), headers: z.record(z.string(), z.string()).optional() }),
]);

export const gatewayConfigSchema = z
  .strictObject({
    serviceName: nonEmpty('serviceName').optional(),
    listen: z
      .strictObject({
        http: z.strictObject({
          host: nonEmpty('listen.http.host').optional(),
          port: z.number().int().min(0).max(65535),
          tokensFile: nonEmpty('listen.http.tokensFile'),
          /** Path of the MCP endpoint (default /mcp). */
          path: z.string().startsWith('/').optional(),
          /** Open sessions at most (default 64); each has its own stdio children. */
          maxSessions: z.number().int().min(1).max(100_000).optional(),
          /** Open sessions of one token at most (default a quarter of maxSessions, at least 1): one token cannot take them all. */
          maxSessionsPerToken: z.number().int().min(1).max(100_000).optional(),
          /** A session with no request for this long is closed (default 30 min). */
          sessionIdleMs: timeoutMs.optional(),
        }),
      })
      .optional(),
    audit: auditSchema.optional(),
    policyFile: nonEmpty('policyFile').optional(),
    approval: approvalSchema.optional(),
    runTokens: z.strictObject({ publicKey: nonEmpty('runTokens.publicKey'), require: z.boolean().optional() }).optional(),
    pins: z.strictObject({ file: nonEmpty('pins.file').optional(), onChange: z.enum(['deny', 'hide']) }).optional(),
    servers: z.array(serverSchema).min(1, 'servers needs at least one server'),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.servers.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['servers', i, 'name'], message: `server name "${s.name}" is used twice` });
      // Tool names are prefixed `<server>__` with several servers: "a" and "a__b" would both claim `a__b__x`.
      // And one ending in "_" ("a_" with tool "x", "a" with tool "_x": both a___x). With neither, prefixed names never collide.
      if (s.name.includes('__')) ctx.addIssue({ code: 'custom', path: ['servers', i, 'name'], message: `server name "${s.name}" contains "__", the separator of prefixed tool names` });
      else if (s.name.endsWith('_')) ctx.addIssue({ code: 'custom', path: ['servers', i, 'name'], message: `server name "${s.name}" ends in "_": with the "__" separator its tool names could be another server's` });
      seen.add(s.name);
      if (c.listen?.http === undefined && s.principal === undefined) {
        ctx.addIssue({ code: 'custom', path: ['servers', i, 'principal'], message: 'stdio mode needs the principal that connects (servers[].principal)' });
      }
    });
    const http = c.listen?.http;
    if (http?.maxSessionsPerToken !== undefined && http.maxSessionsPerToken > (http.maxSessions ?? 64)) {
      ctx.addIssue({ code: 'custom', path: ['listen', 'http', 'maxSessionsPerToken'], message: `listen.http.maxSessionsPerToken (${http.maxSessionsPerToken}) is over listen.http.maxSessions (${http.maxSessions ?? 64})` });
    }
    if (c.listen?.http === undefined && c.audit?.endpoint === undefined) {
      // Without it the OpenTelemetry environment decides, and in stdio mode the agent that starts
      // the gateway sets that environment: it could send the trail anywhere.
      ctx.addIssue({ code: 'custom', path: ['audit', 'endpoint'], message: 'stdio mode needs audit.endpoint (the agent starting the gateway sets its environment, so OTEL_EXPORTER_OTLP_ENDPOINT cannot decide where the trail goes)' });
    }
    if (c.listen?.http === undefined && c.servers.length > 1) {
      // One agent on stdin: whose principal it is must be one answer.
      const ids = new Set(c.servers.map((s) => `${s.principal?.id}\u0000${s.principal?.type ?? ''}`));
      if (ids.size > 1) ctx.addIssue({ code: 'custom', path: ['servers'], message: 'in stdio mode every server entry must name the same principal (one agent connects)' });
    }
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema> & {
  /** The folder relative paths in the file were resolved against. */
  readonly baseDir: string;
};
export type ServerConfig = GatewayConfig['servers'][number];
