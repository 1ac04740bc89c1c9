import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AuditConfigError } from '@tooltrail/core';
import { parse as parseYaml } from 'yaml';
import { gatewayConfigSchema, type GatewayConfig } from './schema.js';

interface Issue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  keys?: readonly string[];
  /** invalid_union: each branch's issues; invalid_key: the key's own. */
  errors?: readonly (readonly Issue[])[];
  issues?: readonly Issue[];
}

/**
 * The issues to show: a union (approval's command or url) by the branch that came closest (its
 * own messages, not zod's "Invalid input"), a record key by what is wrong with it.
 */
function flatten(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): Issue[] {
  return issues.flatMap((i): Issue[] => {
    const path = [...prefix, ...i.path];
    if (i.code === 'invalid_union' && i.errors !== undefined && i.errors.length > 0) {
      const closest = [...i.errors].sort((a, b) => a.length - b.length)[0]!;
      return flatten(closest, path);
    }
    if (i.code === 'invalid_key' && i.issues !== undefined && i.issues.length > 0) return flatten(i.issues, path);
    return [{ ...i, path }];
  });
}

/** Problems of a config, one line each, with the path of the key. */
function problems(issues: readonly Issue[]): string[] {
  return flatten(issues).map((i) => {
    const where = i.path.length > 0 ? i.path.map(String).join('.') : '(top level)';
    const extra = i.code === 'unrecognized_keys' && i.keys !== undefined ? `unknown key(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}` : i.message;
    return `${where}: ${extra}`;
  });
}

/** The spool's folder when `audit.spoolDir` is not given, relative to the config's folder. */
export const DEFAULT_SPOOL_DIR = '.tooltrail-spool';

/** Parses and checks a config's text; paths in it are resolved against `baseDir`. */
export function parseGatewayConfig(text: string, baseDir: string, where = 'gateway config'): GatewayConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new AuditConfigError(`${where}: not YAML or JSON: ${(err as Error).message}`);
  }
  const parsed = gatewayConfigSchema.safeParse(raw);
  if (!parsed.success) throw new AuditConfigError(`${where} has problems:\n${problems(parsed.error.issues).map((p) => `  - ${p}`).join('\n')}`);
  const c = parsed.data;
  const abs = (p: string): string => path.resolve(baseDir, p);
  return {
    ...c,
    baseDir,
    listen: c.listen?.http ? { http: { ...c.listen.http, tokensFile: abs(c.listen.http.tokensFile) } } : undefined,
    // The spool is in the config's folder unless named: never the working directory, which in
    // stdio mode is the agent's (the agent could delete undelivered records there).
    audit: {
      ...c.audit,
      spoolDir: abs(c.audit?.spoolDir ?? DEFAULT_SPOOL_DIR),
      signingKey: c.audit?.signingKey !== undefined ? abs(c.audit.signingKey) : undefined,
    },
    policyFile: c.policyFile !== undefined ? abs(c.policyFile) : undefined,
    approval:
      c.approval && 'command' in c.approval
        ? { ...c.approval, command: commandPaths(c.approval.command, abs), ...(c.approval.cwd !== undefined ? { cwd: abs(c.approval.cwd) } : {}) }
        : c.approval,
    runTokens: c.runTokens ? { ...c.runTokens, publicKey: abs(c.runTokens.publicKey) } : undefined,
    pins: c.pins ? { ...c.pins, file: c.pins.file !== undefined ? abs(c.pins.file) : undefined } : undefined,
    servers: c.servers.map((s) => (s.stdio ? { ...s, stdio: { ...s.stdio, cwd: abs(s.stdio.cwd ?? '.') } } : s)),
  };
}

/** A program named with a path (`./approve.sh`) is relative to the config; a bare name is looked up on PATH. */
function commandPaths(command: string[], abs: (p: string) => string): string[] {
  const [program, ...args] = command;
  if (program === undefined) return command;
  return [program.includes('/') ? abs(program) : program, ...args];
}

/** Reads the config file (YAML or JSON). An AuditConfigError lists every problem. */
export function loadGatewayConfig(file: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AuditConfigError(`gateway config ${file}: cannot read it: ${(err as Error).message}`);
  }
  return parseGatewayConfig(text, path.dirname(path.resolve(file)), `gateway config ${file}`);
}
