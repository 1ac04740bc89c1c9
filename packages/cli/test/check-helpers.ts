import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli, startCliCollector, stopCli, tempDir, type CliCollector } from './helpers.js';

/** Core's built entry, imported by the --config modules the tests write (they live in temp folders). */
export const CORE_URL = pathToFileURL(path.resolve(import.meta.dirname, '../../core/dist/index.js')).href;

export interface CheckJson {
  ok: boolean;
  exitCode: number;
  nonce: string;
  failing: string[];
  verdicts: { id: string; status: 'pass' | 'fail' | 'unknown'; summary: string; details: string[] }[];
  canary: {
    label: string;
    principal: string;
    callId: string;
    inProcess?: { result: string; rule?: string };
    record: { outcome: string; principalId?: string; runId?: string; argsJson?: string; rule?: string } | null;
  }[];
  recent?: { calls: number; runs: number; flags: { kind: string; principal?: string; why: string }[] };
  read: { records: number; bytes: number; related: number; problems: string[] };
}

export async function finished(args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = runCli(args, cwd);
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** A collector of its own in a fresh folder. */
export async function collector(): Promise<CliCollector> {
  return startCliCollector(path.join(await tempDir(), 'trail'));
}

export { stopCli };

/**
 * A --config module as an app would write one: `createAuditor` options as JS source (they may
 * refer to `deny` and `encodeTraceRequest`), plus any extra exports.
 */
export async function configModule(options: string, extra = ''): Promise<string> {
  return moduleFile(`export default () => createAuditor(${options});\n${extra}`);
}

/** A module file of its own; `createAuditor`, `deny` and `encodeTraceRequest` are imported for it. */
export async function moduleFile(body: string, name = 'tooltrail.config.mjs'): Promise<string> {
  const file = path.join(await tempDir(), name);
  await writeFile(file, `import { createAuditor, deny, encodeTraceRequest } from ${JSON.stringify(CORE_URL)};\n${body}\n`);
  return file;
}

/** Options of an app's auditor that sends to `c`, denies everything but its own tool, with `more` spliced in. */
export function appOptions(c: CliCollector, service: string, more = ''): string {
  return `{
    serviceName: ${JSON.stringify(service)},
    endpoint: ${JSON.stringify(c.url)},
    spoolDir: ${JSON.stringify(path.join(c.dir, '..', 'spool'))},
    logger: { warn() {} },
    policy: [function agentScope(call) { if (call.tool !== 'lookup_order') return deny('outside the support agent scope', { rule: 'agent-scope' }); }],
    ${more}
  }`;
}

export async function runCheck(args: string[]): Promise<{ code: number | null; json: CheckJson; stderr: string }> {
  const r = await finished(['check', '--json', ...args]);
  let json: CheckJson;
  try {
    json = JSON.parse(r.stdout) as CheckJson;
  } catch {
    throw new Error(`check printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

export function verdictOf(j: CheckJson, id: string): CheckJson['verdicts'][number] {
  const v = j.verdicts.find((x) => x.id === id);
  if (!v) throw new Error(`no verdict ${id}`);
  return v;
}
