import { parseArgs } from 'node:util';
import { UsageError, type Io } from './io.js';

export const GATEWAY_USAGE = `Usage: tooltrail gateway --config <file>

An MCP gateway: agents connect to it instead of the MCP servers it fronts, and it records every
tools/call with tooltrail (the same execute_tool record as the in-process wrapper, plus the MCP
attributes), outside the agent's process. The config (YAML or JSON) names the servers (stdio
children or Streamable HTTP URLs), the audit export, and optionally a policy file, approvals,
run tokens and tool pins (docs/gateway.md).

Without listen.http in the config it speaks MCP on stdin/stdout (the agent starts it as its
MCP server command) and stops when stdin ends. With listen.http it serves Streamable HTTP,
each agent authenticated by a bearer token, and prints one line to stdout when ready:
  tooltrail gateway: listening on http://127.0.0.1:8931/mcp
SIGTERM or SIGINT stops it: connections and runs are closed and the records flushed. Exit
0 when every record was delivered, 1 when some were not (a spooled one is sent by the next
start) or the config is bad.

Needs the @tooltrail/gateway package installed beside @tooltrail/cli.

Options:
  --config <file>   the gateway config
  -h, --help        show this help
`;

/** What the command uses of @tooltrail/gateway (imported lazily: the cli does not depend on it). */
interface GatewayModule {
  runGateway(configFile: string, options: { warn?: (message: string) => void }): Promise<{ mode: 'stdio' | 'http'; url: string | undefined; done: Promise<boolean>; close(): Promise<void> }>;
}

const PACKAGE = '@tooltrail/gateway';

async function importGateway(): Promise<GatewayModule> {
  try {
    return (await import(PACKAGE)) as GatewayModule;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error(`tooltrail gateway needs the package ${PACKAGE}: install it beside @tooltrail/cli (npm install ${PACKAGE})`);
    }
    throw err;
  }
}

export async function gateway(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    io.out(GATEWAY_USAGE);
    return 0;
  }
  if (values.config === undefined) throw new UsageError('--config <file> is needed');
  const mod = await importGateway();
  let gw: Awaited<ReturnType<GatewayModule['runGateway']>>;
  try {
    gw = await mod.runGateway(values.config, { warn: (m) => io.err(`${m}\n`) });
  } catch (err) {
    if ((err as Error).name === 'AuditConfigError' || (err as Error).name === 'TokensFileError') {
      io.err(`tooltrail gateway: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
  // stdout is the agent's MCP channel in stdio mode: nothing else may go there.
  if (gw.mode === 'http') io.out(`tooltrail gateway: listening on ${gw.url}\n`);
  const stop = (): void => void gw.close();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const delivered = await gw.done;
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  if (delivered) return 0;
  // Never "stopped cleanly" with records undelivered: the exit code says it too (a supervisor sees it).
  io.err('tooltrail gateway: stopped with records not delivered to the audit endpoint (see the warnings above); a spooled record is sent by the next start on the same spool\n');
  return 1;
}
