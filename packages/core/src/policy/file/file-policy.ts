/**
 * A policy file loaded from disk: the security team's rules, outside agent code. This is the
 * public face (`@tooltrail/core/policy`); parsing, compiling, facts, evaluation and reload live
 * beside it, one job per file. A reload that fails (the file no longer parses, compiles or
 * verifies, or is gone) keeps the last good policy, warns through the logger, and is counted.
 */
import { AuditConfigError } from '../../contract/errors.js';
import { consoleLogger, type AuditLogger } from '../../contract/logger.js';
import { RULE_POLICY_ERROR_PREFIX } from '../../contract/semconv.js';
import { computeFacts } from './facts.js';
import { evaluatePolicyDocument } from './evaluate.js';
import { currentInputsKey, readPolicyFile, resolvePolicyOptions, type ResolvedPolicyOptions } from './load.js';
import { watchFiles, type FileWatch } from './watch.js';
import type { CompiledPolicy, FileDecision, FilePolicyOptions, FilePolicyStatus, PolicyCallInput, PolicyFacts, PolicyTrace } from './types.js';

export { parsePolicyDocument } from './parse.js';
export { compilePolicy } from './compile.js';
export { evaluatePolicyDocument } from './evaluate.js';
export { policyJsonSchema } from './schema.js';
export type {
  CompiledCondition,
  CompiledPolicy,
  CompiledRule,
  ConditionReads,
  EmailFact,
  FieldFacts,
  FileDecision,
  FilePolicyOptions,
  FilePolicyStatus,
  PolicyCallInput,
  PolicyDocument,
  PolicyFacts,
  PolicyRuleDecision,
  PolicyRuleDocument,
  PolicyRunInput,
  PolicyTrace,
  UrlFact,
} from './types.js';

export class FilePolicy {
  #compiled: CompiledPolicy;
  #version: string;
  #loadedAt: number;
  #reloads = 0;
  #failures = 0;
  #lastError: string | undefined;
  #lastKey: string;
  #watch: FileWatch | undefined;

  /** @internal use loadFilePolicy */
  constructor(
    private readonly options: ResolvedPolicyOptions,
    private readonly logger: AuditLogger,
  ) {
    let key = '';
    const loaded = readPolicyFile(options, (k) => (key = k));
    this.#lastKey = key;
    this.#compiled = loaded.compiled;
    this.#version = loaded.version;
    this.#loadedAt = Date.now();
    if (options.watch) {
      const paths = options.key !== undefined ? [options.path, options.signaturePath] : [options.path];
      this.#watch = watchFiles(paths, options.pollMs, () => this.reload());
    }
  }

  /** The file's `id`. */
  get id(): string {
    return this.#compiled.id;
  }

  /** `sha256:` + hex of the file's bytes as loaded. */
  get version(): string {
    return this.#version;
  }

  /** The policy in force, compiled. */
  get policy(): CompiledPolicy {
    return this.#compiled;
  }

  /** Synchronous and never throws: anything unexpected denies (fail closed). */
  decide(call: PolicyCallInput, trace?: PolicyTrace): FileDecision {
    try {
      return evaluatePolicyDocument(this.#compiled, call, trace);
    } catch (err) {
      return {
        kind: 'deny',
        rule: `${RULE_POLICY_ERROR_PREFIX}${this.#compiled.id}`,
        reason: `policy file ${this.#compiled.id} failed, call denied (fail closed): ${err instanceof Error ? err.message : String(err)}`,
        error: err,
      };
    }
  }

  status(): FilePolicyStatus {
    return {
      id: this.#compiled.id,
      version: this.#version,
      path: this.options.path,
      loadedAt: this.#loadedAt,
      reloads: this.#reloads,
      reloadFailures: this.#failures,
      lastError: this.#lastError,
    };
  }

  /**
   * Reads the file again now (the watcher calls this on a change). Returns true when a new
   * version is in force. A failure keeps the last good policy.
   */
  reload(): boolean {
    const key = currentInputsKey(this.options);
    if (key === this.#lastKey) return false;
    // Remembered is the key of the bytes the reload judged (read once), not of this first look:
    // a file rewritten between the two must not be taken as judged (a good one never loaded).
    this.#lastKey = key;
    try {
      const loaded = readPolicyFile(this.options, (k) => (this.#lastKey = k));
      this.#lastError = undefined;
      if (loaded.version === this.#version) return false;
      this.#compiled = loaded.compiled;
      this.#version = loaded.version;
      this.#loadedAt = Date.now();
      this.#reloads++;
      return true;
    } catch (err) {
      this.#failures++;
      this.#lastError = err instanceof Error ? err.message : String(err);
      this.logger.warn(
        `policy file ${this.options.path} was not reloaded; policy ${this.#compiled.id} ${this.#version} stays in force: ${this.#lastError}`,
      );
      return false;
    }
  }

  /** Stops watching. The policy in force keeps deciding. */
  close(): void {
    this.#watch?.close();
    this.#watch = undefined;
  }
}

/** Loads a policy file (sync). Throws an AuditConfigError on a bad file, options or signature. */
export function loadFilePolicy(options: FilePolicyOptions | string, deps?: { logger?: AuditLogger }): FilePolicy {
  const resolved = resolvePolicyOptions(options);
  return new FilePolicy(resolved, deps?.logger ?? consoleLogger);
}

/** The normalised facts a rule's `facts` sees for these arguments. */
export function policyFacts(args: unknown, options?: { baseDir?: string }): PolicyFacts {
  try {
    return computeFacts(args, options?.baseDir ?? process.cwd());
  } catch (err) {
    throw new AuditConfigError('cannot compute policy facts', [err instanceof Error ? err.message : String(err)]);
  }
}
