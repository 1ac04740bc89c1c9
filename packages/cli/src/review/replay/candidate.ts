/**
 * The candidate policy file, read once (no watching: a replay is about one version of it) and
 * turned into what the replay engine calls. Parsing, compiling and evaluating are core's
 * (`@tooltrail/core/policy`), so the replay decides exactly as the auditor would.
 */
import { createHash } from 'node:crypto';
import { readSmallFileSync } from '@tooltrail/core/integrity';
import type { Candidate, CandidateDecision, CandidateInput } from './replay.js';

/**
 * The part of `@tooltrail/core/policy` a replay uses, structurally: the command passes the
 * module itself; tests may pass core's sources.
 */
export interface PolicyApi {
  parsePolicyDocument(text: string, format: 'json' | 'yaml', where?: string): unknown;
  compilePolicy(doc: never, options?: { baseDir?: string }): CompiledShape;
  evaluatePolicyDocument(doc: never, call: CandidateInput, trace?: { read(path: string): void }): CandidateDecision;
}
export interface CompiledShape {
  readonly id: string;
  readonly rules: ReadonlyArray<{ readonly id: string; readonly when: string | undefined; readonly matches: (tool: string) => boolean }>;
}

export interface LoadedCandidate extends Candidate {
  path: string;
}

/** A policy file's problems, each listed (the command exits 1 with them). */
export class PolicyFileProblems extends Error {
  override readonly name = 'PolicyFileProblems';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
  }
}

export function formatOf(file: string): 'json' | 'yaml' | undefined {
  const f = file.toLowerCase();
  return f.endsWith('.json') ? 'json' : f.endsWith('.yaml') || f.endsWith('.yml') ? 'yaml' : undefined;
}

function issuesOf(err: unknown): string[] {
  const issues = (err as { issues?: unknown }).issues;
  if (Array.isArray(issues) && issues.length > 0) return issues.map(String);
  return [err instanceof Error ? err.message : String(err)];
}

/** Reads, validates and compiles a policy file; PolicyFileProblems listing every problem otherwise. */
export function loadCandidate(api: PolicyApi, file: string, options: { baseDir?: string } = {}): LoadedCandidate {
  const format = formatOf(file);
  if (format === undefined) throw new PolicyFileProblems(file, ['a policy file is .json, .yaml or .yml']);
  let bytes: Buffer;
  try {
    bytes = readSmallFileSync(file, 'policy file');
  } catch (err) {
    throw new PolicyFileProblems(file, [(err as Error).message]);
  }
  let compiled: CompiledShape;
  try {
    compiled = api.compilePolicy(api.parsePolicyDocument(bytes.toString('utf8'), format, file) as never, options);
  } catch (err) {
    throw new PolicyFileProblems(file, issuesOf(err));
  }
  return {
    path: file,
    id: compiled.id,
    // As FilePolicy.version: the hash of the bytes as loaded.
    version: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    rules: compiled.rules.map((r) => ({ id: r.id, when: r.when, matches: r.matches })),
    evaluate: (call, trace) => api.evaluatePolicyDocument(compiled as never, call, trace),
  };
}
