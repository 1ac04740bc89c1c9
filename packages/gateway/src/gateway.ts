import { AuditConfigError, createAuditor, type Auditor, type AuditorOptions } from '@tooltrail/core';
import { dropAgentEnvironment } from './agent-environment.js';
import { ToolCallAudit } from './audit/tool-calls.js';
import { failModeOf, RequestRecords } from './audit/mcp-requests.js';
import { loadGatewayConfig } from './config/load.js';
import type { GatewayConfig } from './config/schema.js';
import type { GatewayContext } from './proxy/context.js';
import { listenHttp } from './proxy/http-listener.js';
import { loadFilePolicy, type FilePolicy } from '@tooltrail/core/policy';
import { ensureContextManager } from './audit/trace-context.js';
import { approvalHandlerFrom, loadRunTokenKeys, loadTokenLookup, stdioIdentity, ToolPins } from './proxy/parts.js';
import { Session } from './proxy/session.js';
import { AgentStdioTransport } from './transport/stdio-agent.js';

declare const __TOOLTRAIL_VERSION__: string | undefined;
export const GATEWAY_VERSION: string = typeof __TOOLTRAIL_VERSION__ === 'string' ? __TOOLTRAIL_VERSION__ : '0.1.0';

export interface GatewayOptions {
  /** Agent side of stdio mode (default process.stdin / process.stdout). */
  stdin?: NodeJS.ReadableStream & { on: NodeJS.ReadableStream['on'] };
  stdout?: NodeJS.WritableStream;
  /** Where warnings go (default stderr; never stdout, which is the agent's channel in stdio mode). */
  warn?: (message: string) => void;
  /** Replaces the auditor built from the config's `audit` (tests). */
  auditor?: Auditor;
}

export interface Gateway {
  readonly mode: 'stdio' | 'http';
  /** The agents' endpoint in HTTP mode. */
  readonly url: string | undefined;
  readonly auditor: Auditor;
  /**
   * Resolves when the gateway stopped (stdio: the agent closed stdin): true when every record was
   * delivered at shutdown, false when some were not (kept in the spool for the next start, or
   * lost: the auditor's warnings say which). With a caller's own `auditor`, true (its owner shuts it down).
   */
  readonly done: Promise<boolean>;
  /** Ends every connection and run, then flushes and shuts the auditor down. */
  close(): Promise<void>;
}

/** The auditor options the config's `audit`, `policyFile` and `approval` name. */
export function auditorOptions(config: GatewayConfig): AuditorOptions {
  const a = config.audit ?? {};
  const headers: Record<string, string> = { ...a.headers };
  if (a.token !== undefined) headers.authorization = `Bearer ${a.token}`;
  const approval = config.approval !== undefined ? approvalHandlerFrom(config.approval) : undefined;
  return {
    serviceName: config.serviceName ?? 'tooltrail-gateway',
    ...(a.endpoint !== undefined ? { endpoint: a.endpoint } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(a.spoolDir !== undefined ? { spoolDir: a.spoolDir } : {}),
    ...(a.durability !== undefined ? { durability: a.durability } : {}),
    ...(a.failMode !== undefined ? { failMode: a.failMode } : {}),
    ...(a.masking !== undefined ? { masking: a.masking as AuditorOptions['masking'] } : {}),
    ...(a.signingKey !== undefined ? { integrity: { signingKey: a.signingKey } } : {}),
    ...(config.policyFile !== undefined ? { policyFile: config.policyFile } : {}),
    ...(config.approval !== undefined ? { approval: { ...(approval ? { handler: approval } : {}), ...(config.approval.timeoutMs ? { timeoutMs: config.approval.timeoutMs } : {}) } } : {}),
  };
}

/** Starts a gateway: HTTP when the config has `listen.http`, else stdio on the given streams. */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const warn = options.warn ?? ((m: string) => void process.stderr.write(`${m}\n`));
  // The agent's trace context becomes the parent of a call's span only where context.with works.
  ensureContextManager();
  if (config.listen?.http === undefined && options.auditor === undefined) {
    const dropped = dropAgentEnvironment();
    if (dropped.length > 0) warn(`tooltrail gateway: stdio mode: ignored ${dropped.join(', ')} from the environment (the agent that starts the gateway sets it); the config decides the trail`);
  }
  // Everything that can fail on a bad file first: nothing is left open behind an AuditConfigError.
  const runKeys = loadRunTokenKeys(config.runTokens);
  const tokens = config.listen?.http !== undefined ? loadTokenLookup(config.listen.http.tokensFile) : undefined;
  const pins = new ToolPins({ ...(config.pins?.file !== undefined ? { file: config.pins.file } : {}), onChange: config.pins?.onChange ?? 'deny', warn }, (change) =>
    warn(`tooltrail gateway: tool "${change.tool}" of server "${change.server}" changed since it was pinned (${change.oldHash} -> ${change.newHash}); calls to it are denied until the pin is updated`),
  );
  // The auditor decides every call with its own copy (createAuditor's policyFile); this one filters tools/list.
  const policy: FilePolicy | undefined = config.policyFile !== undefined ? loadFilePolicy({ path: config.policyFile, watch: true }, { logger: { warn } }) : undefined;
  let auditor: Auditor;
  try {
    auditor = options.auditor ?? createAuditor({ ...auditorOptions(config), logger: { warn } });
  } catch (err) {
    policy?.close();
    throw err;
  }
  const requests = new RequestRecords(failModeOf(auditor, config.audit), warn);
  const ctx: GatewayContext = { config, audit: new ToolCallAudit(auditor), requests, pins, policy, runKeys, version: GATEWAY_VERSION, warn };
  let stopped!: (delivered: boolean) => void;
  const done = new Promise<boolean>((r) => (stopped = r));
  let closing: Promise<void> | undefined;
  const finish = async (closeConnections: () => Promise<void>): Promise<void> => {
    await closeConnections();
    policy?.close();
    const delivered = options.auditor === undefined ? await auditor.shutdown(config.audit?.shutdownTimeoutMs) : true;
    stopped(delivered);
  };

  if (config.listen?.http !== undefined) {
    const listener = await listenHttp(ctx, tokens!);
    const close = () => (closing ??= finish(() => listener.close()));
    return { mode: 'http', url: listener.url, auditor, done, close };
  }
  const stdin = (options.stdin ?? process.stdin) as NodeJS.ReadStream;
  const stdout = (options.stdout ?? process.stdout) as NodeJS.WriteStream;
  const entry = config.servers[0];
  if (entry?.principal === undefined) throw new AuditConfigError('stdio mode needs servers[].principal');
  const session = new Session(ctx, stdioIdentity({ principal: entry.principal, ...(entry.agent ? { agent: entry.agent } : {}) }), new AgentStdioTransport(stdin, stdout, warn));
  const close = () => (closing ??= finish(() => session.close()));
  session.onclose = () => void close();
  // The SDK's stdio transport does not notice the agent going away: the end of stdin is that.
  stdin.once('end', () => void close());
  stdin.once('close', () => void close());
  await session.start();
  return { mode: 'stdio', url: undefined, auditor, done, close };
}

/** `tooltrail gateway --config <file>`: runs until SIGTERM/SIGINT (or, in stdio mode, the end of stdin). */
export async function runGateway(configFile: string, options: GatewayOptions & { ready?: (gateway: Gateway) => void } = {}): Promise<Gateway> {
  const gateway = await startGateway(loadGatewayConfig(configFile), options);
  options.ready?.(gateway);
  return gateway;
}
