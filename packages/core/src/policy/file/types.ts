import type { ConditionReads } from './reads.js';

export type { ConditionReads } from './reads.js';

/**
 * The policy file's public types: the document as written, the compiled form the evaluator
 * runs, the facts derived from arguments, and the decision. Kept apart from the code so the
 * schema, the compiler and the evaluator can share them without importing each other.
 */

/** What a rule decides when it applies. */
export type PolicyRuleDecision = 'allow' | 'deny' | 'rewrite' | 'ask';

/** One rule as written in the file. */
export interface PolicyRuleDocument {
  id: string;
  /** Glob patterns on the tool name: `*` any run of characters, `?` one character. */
  tools: string[];
  /** Optional CEL expression; must evaluate to a bool. Absent: the rule applies to every matching tool. */
  when?: string | undefined;
  decide: PolicyRuleDecision;
  reason?: string | undefined;
  /** rewrite only: dotted argument path -> new value. */
  set?: Record<string, unknown> | undefined;
  /** rewrite only: dotted argument paths to delete. */
  remove?: string[] | undefined;
  description?: string | undefined;
}

/** A policy file's content, validated. */
export interface PolicyDocument {
  $schema?: string | undefined;
  id: string;
  description?: string | undefined;
  default: 'allow' | 'deny';
  rules: PolicyRuleDocument[];
}

export interface EmailFact {
  /** `local@domain`, normalised. */
  address: string;
  local: string;
  /** Lower-cased, trailing dot removed, IDN as punycode. */
  domain: string;
}

export interface UrlFact {
  url: string;
  scheme: string;
  host: string;
  /** The explicit port, or the scheme's default (0 when the scheme has none). */
  port: number;
  path: string;
  query: string;
}

export interface FieldFacts {
  emails: EmailFact[];
  urls: UrlFact[];
  paths: string[];
}

/** Normalised facts derived from a call's arguments, as `facts` in CEL. */
export interface PolicyFacts {
  emails: EmailFact[];
  urls: UrlFact[];
  /** Absolute, normalised file paths. */
  paths: string[];
  /** Numeric arguments and numeric strings, by dotted path. */
  numbers: Record<string, number>;
  /** Per argument (dotted path): the facts of that one value. */
  fields: Record<string, FieldFacts>;
}

export interface PolicyRunInput {
  principal?: { id: string; type?: string };
  agent?: { name?: string; id?: string };
  runId?: string;
  attributes?: Record<string, unknown>;
}

export interface PolicyCallInput {
  tool: string;
  args: unknown;
  callId?: string;
  run?: PolicyRunInput;
}

export interface FileDecision {
  kind: 'allow' | 'deny' | 'ask' | 'rewrite';
  /** The deciding rule's id; undefined when the default decided. */
  rule: string | undefined;
  reason: string | undefined;
  /** rewrite: the rewritten arguments. */
  args?: unknown;
  /** A CEL evaluation that threw: kind is 'deny' (fail closed). */
  error?: unknown;
}

/** Called with the dotted path of every argument value a rule's condition read. */
export interface PolicyTrace {
  read(path: string): void;
}

/** A compiled `when`: evaluates against the CEL context; throws on an evaluation error. */
export type CompiledCondition = (context: Record<string, unknown>) => unknown;

export interface CompiledRule {
  readonly id: string;
  readonly decide: PolicyRuleDecision;
  readonly reason: string | undefined;
  readonly matches: (tool: string) => boolean;
  readonly when: string | undefined;
  readonly condition: CompiledCondition | undefined;
  readonly set: ReadonlyArray<readonly [path: string, value: unknown]>;
  readonly remove: readonly string[];
  /** What the condition reads (for PolicyTrace); undefined without a condition. */
  readonly reads: ConditionReads | undefined;
}

/** A policy ready to evaluate: every `when` compiled, every glob turned into a matcher. */
export interface CompiledPolicy {
  readonly id: string;
  readonly default: 'allow' | 'deny';
  readonly rules: readonly CompiledRule[];
  readonly baseDir: string;
  readonly document: PolicyDocument;
}

export interface FilePolicyOptions {
  /** .json, .yaml or .yml */
  path: string;
  /** PEM Ed25519 public key, or a path to one: a detached signature must verify. */
  publicKey?: string;
  /** Default `${path}.sig` (base64 of the Ed25519 signature over the file's bytes). */
  signaturePath?: string;
  /** Default true: reload on change (fs.watch + a stat poll). */
  watch?: boolean;
  /** Default 1000. */
  pollMs?: number;
  /** For resolving relative file paths in facts; default process.cwd(). */
  baseDir?: string;
}

export interface FilePolicyStatus {
  id: string;
  version: string;
  path: string;
  loadedAt: number;
  reloads: number;
  reloadFailures: number;
  lastError: string | undefined;
}
