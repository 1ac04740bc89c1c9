/**
 * A policy file loaded from disk: the security team's rules, outside agent code. This is the
 * public face (`@tooltrail/core/policy`); parsing, compiling, facts, evaluation and reload live
 * beside it, one job per file.
 */
import type { AuditLogger } from '../../contract/logger.js';
import type {
  CompiledPolicy,
  FileDecision,
  FilePolicyOptions,
  FilePolicyStatus,
  PolicyCallInput,
  PolicyDocument,
  PolicyFacts,
  PolicyTrace,
} from './types.js';

export type {
  CompiledCondition,
  CompiledPolicy,
  CompiledRule,
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

function notImplemented(): never {
  throw new Error('not implemented');
}

export class FilePolicy {
  get id(): string {
    return notImplemented();
  }
  get version(): string {
    return notImplemented();
  }
  decide(_call: PolicyCallInput): FileDecision {
    return { kind: 'deny', rule: undefined, reason: 'not implemented' };
  }
  status(): FilePolicyStatus {
    return notImplemented();
  }
  close(): void {}
}

export function loadFilePolicy(_options: FilePolicyOptions | string, _deps?: { logger?: AuditLogger }): FilePolicy {
  return notImplemented();
}

export function parsePolicyDocument(_text: string, _format: 'json' | 'yaml', _where?: string): PolicyDocument {
  return notImplemented();
}

export function compilePolicy(_doc: PolicyDocument, _options?: { baseDir?: string }): CompiledPolicy {
  return notImplemented();
}

export function evaluatePolicyDocument(_doc: CompiledPolicy, _call: PolicyCallInput, _trace?: PolicyTrace): FileDecision {
  return notImplemented();
}

export function policyFacts(_args: unknown, _options?: { baseDir?: string }): PolicyFacts {
  return notImplemented();
}
