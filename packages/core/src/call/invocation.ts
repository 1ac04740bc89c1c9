import type { ToolCall } from '../policy/decisions.js';
import { evaluatePolicy, timeoutVerdict, type PolicyProgress, type PolicyVerdict } from '../policy/evaluate.js';
import { withDeadline } from '../policy/deadline.js';
import * as sc from '../contract/semconv.js';
import type { CallRecordInit } from './call-record.js';
import type { ToolBody } from './execute.js';
import type { ApprovalRecord } from './approval.js';
import { ApprovalStep } from './asking.js';
import { checkArguments, type Checked } from './validate.js';

/** The tool's arguments as one value: the first argument for the usual one-argument tool. */
export function argumentView(args: readonly unknown[]): unknown {
  return args.length <= 1 ? args[0] : args;
}

/** The inverse of argumentView, for arguments replaced by the schema or a rewrite. */
function callArguments(view: unknown, original: unknown[]): unknown[] {
  // Unchanged (no schema transform, no rewrite): the caller's own array, not a copy.
  if (view === argumentView(original)) return original;
  if (original.length > 1) return Array.isArray(view) ? view : [view];
  if (original.length === 0 && view === undefined) return [];
  return [view];
}

/** The verdict of no rules; its `args` are never read (decided() takes the call's own). */
const ALLOWED: PolicyVerdict = Object.freeze({ kind: 'allow', args: undefined, rule: undefined, reason: undefined, error: undefined });

export interface InvocationInit extends CallRecordInit {
  readonly fn: ToolBody;
  readonly thisArg: unknown;
  readonly args: unknown[];
  /** argumentView(args): what the schema and the rules see. */
  readonly view: unknown;
}

/**
 * One audited invocation, holding its state; its methods are the steps in order: start (refusal
 * and approval), validate, decide, execute (Execution), each ending the record when it refuses.
 * The tool body runs only after validation and policy allowed it, and only while its record can
 * still be written. A step that refuses throws; the caller turns that into a rejected promise.
 */
export class Invocation extends ApprovalStep {
  readonly fn: ToolBody;
  readonly thisArg: unknown;
  readonly args: unknown[];
  readonly view: unknown;

  constructor(init: InvocationInit) {
    super(init);
    this.fn = init.fn;
    this.thisArg = init.thisArg;
    this.args = init.args;
    this.view = init.view;
  }

  start(approval: ApprovalRecord | undefined, resumed: boolean | undefined): Promise<unknown> {
    const refused = this.engine.refusal();
    if (refused !== undefined) {
      this.recordArguments(this.view);
      this.refuse(refused);
    }
    // Only calls that carry an approval or a framework's id can resume a held one.
    if (approval !== undefined || resumed === true || this.suppliedId !== undefined) this.carry(approval, resumed, this.view);
    return this.validate();
  }

  validate(): Promise<unknown> {
    const schema = this.def.schema;
    if (schema === undefined) return this.decide(this.view);
    const checked = checkArguments(schema, this.view, this);
    if (!(checked instanceof Promise)) return this.validated(checked);
    return checked.then((c) => this.settling(() => this.validated(c)));
  }

  private validated(checked: Checked): Promise<unknown> {
    if (!checked.ok) throw this.invalidRecord(checked.issues, this.view);
    return this.decide(checked.value);
  }

  decide(validated: unknown): Promise<unknown> {
    if (this.binding !== undefined) this.bindArguments(this.binding, validated);
    const engine = this.engine;
    const def = this.def;
    const file = engine.policyFile;
    const rules = def.policy.length === 0 ? engine.policy : [...engine.policy, ...def.policy];
    // No rules, no policy file and identity satisfied (the default): allowed, with no ToolCall,
    // progress or verdict objects made for rules that do not exist.
    if (rules.length === 0 && file === undefined && (this.store?.run !== undefined || !engine.requireIdentity)) return this.decided(ALLOWED, validated);
    if (file !== undefined) this.filePolicy(file.id, file.version);
    const call: ToolCall = { tool: def.name, args: validated, proposedArgs: this.proposed, callId: this.callId, run: this.store?.run };
    const progress: PolicyProgress = { rule: undefined, args: validated };
    const pending = evaluatePolicy(rules, call, engine.requireIdentity, progress, file);
    if (!(pending instanceof Promise)) return this.decided(pending, pending.args);
    const ms = this.decisionMs();
    return withDeadline(pending, this.remainingDecisionMs(), (why) => timeoutVerdict(progress, ms, why), this.pending).then((v) => this.settling(() => this.decided(v, v.args)));
  }

  /** The policy file in force (read once per call, so a reload mid-call cannot split the record). */
  private filePolicy(id: string, version: string): void {
    this.attrs[sc.ATTR_POLICY_ID] = id;
    this.attrs[sc.ATTR_POLICY_VERSION] = version;
    this.policyRef = { id, version };
  }

  /** `executed`: the verdict's arguments (passed apart so one shared allow verdict serves every call). */
  private decided(verdict: PolicyVerdict, executed: unknown): Promise<unknown> {
    const denied = this.decisionRecord(verdict);
    if (denied !== undefined) throw denied;
    if ((verdict.kind === 'rewrite' || verdict.rewrote === true) && this.def.schema !== undefined) {
      // A rewrite must still satisfy the tool's schema: policy cannot smuggle in what validation rejects.
      const again = checkArguments(this.def.schema, executed, this);
      return again instanceof Promise ? again.then((c) => this.settling(() => this.rewritten(c, verdict, executed))) : this.rewritten(again, verdict, executed);
    }
    return this.proceed(verdict, executed);
  }

  private rewritten(checked: Checked, verdict: PolicyVerdict, executed: unknown): Promise<unknown> {
    if (!checked.ok) throw this.invalidRecord(checked.issues, executed);
    return this.proceed(verdict, checked.value);
  }

  /** Runs the call, after its approval when a rule asked for one. */
  private proceed(verdict: PolicyVerdict, executed: unknown): Promise<unknown> {
    this.recordArguments(executed);
    const callArgs = callArguments(executed, this.args);
    if (verdict.kind === 'ask') return this.asked(verdict, this.fn, this.thisArg, callArgs, executed);
    return this.execute(this.fn, this.thisArg, callArgs);
  }
}
