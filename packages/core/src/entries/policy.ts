/**
 * `@tooltrail/core/policy`: policy as data. Load a policy file, or parse, compile and evaluate
 * a policy document yourself (the cli's `policy test` replays recorded calls this way).
 */
export {
  FilePolicy,
  loadFilePolicy,
  parsePolicyDocument,
  compilePolicy,
  evaluatePolicyDocument,
  policyFacts,
  policyJsonSchema,
} from '../policy/file/file-policy.js';
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
} from '../policy/file/file-policy.js';
