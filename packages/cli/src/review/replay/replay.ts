/**
 * `tooltrail policy test`'s engine: one recorded call in, one verdict out. The candidate's
 * evaluator is passed in (the command builds it from `@tooltrail/core/policy`), so this file
 * holds only the replay's own logic.
 */
import type { CallView } from '../calls.js';
import { DIGEST, findHoles, holesRead, MASKING_FAILED, type Hole, type HoleCause } from './holes.js';
import { conditionReads, traceRead, type Read } from './reads.js';
import { expectedKind, recordedDecision, type DecisionKind, type RecordedDecision } from './recorded.js';

/** A recorded call, with the few things the replay needs beyond the shared view. */
export interface ReplayCall extends CallView {
  /** `tooltrail.run.attr.*`, keys without the prefix (masked as recorded). */
  runAttributes?: Record<string, unknown>;
  /** `tooltrail.payload.truncated`: payload fields cut to the size cap. */
  truncated?: string[];
  /** `tooltrail.payload.arguments.hash` is recorded: the arguments were cut or digested. */
  argumentsHashed?: boolean;
  /** `tooltrail.approval.rule`: the rule that asked, when an approval step then decided. */
  askRule?: string;
}

/** The candidate as the replay sees it: structurally `@tooltrail/core/policy`'s compiled policy and evaluator. */
export interface CandidateInput {
  tool: string;
  args: unknown;
  callId?: string;
  run?: {
    principal?: { id: string; type?: string };
    agent?: { name?: string; id?: string };
    runId?: string;
    attributes?: Record<string, unknown>;
  };
}
export interface CandidateDecision {
  kind: DecisionKind;
  rule: string | undefined;
  reason: string | undefined;
  error?: unknown;
}
export interface Candidate {
  id: string;
  version: string;
  /** The file's rules in order (what `when` can read, and which rules a decision passed through). */
  rules: ReadonlyArray<{ id: string; when: string | undefined; matches: (tool: string) => boolean }>;
  evaluate(call: CandidateInput, trace: { read(path: string): void }): CandidateDecision;
}

export type VerdictKind = 'differs' | 'undecidable' | 'invalid' | 'same';

export interface Verdict {
  kind: VerdictKind;
  call: CallView;
  recorded: RecordedDecision;
  /** The candidate file's own decision (absent when it cannot be decided or the call was invalid). */
  candidate?: { kind: DecisionKind; rule: string | undefined; reason: string | undefined; error?: string };
  /** The chain's decision with the candidate in place: what is compared with the recorded one. */
  expected?: DecisionKind;
  /** Why it cannot be decided: the causes, the argument (or run) paths it needed, the mask kinds found there. */
  needed?: { causes: HoleCause[]; paths: string[]; kinds: string[] };
  notes: string[];
}

function parseArgs(c: ReplayCall): { args: unknown; root?: Hole } {
  const whole = (cause: HoleCause): { args: unknown; root: Hole } => ({ args: undefined, root: { path: '', cause, shape: 'value', kinds: [] } });
  if (c.argsJson === undefined) return whole('unreadable');
  let args: unknown;
  try {
    args = JSON.parse(c.argsJson);
  } catch {
    return whole(c.truncated?.includes('arguments') ? 'truncated' : 'unreadable');
  }
  if (args === MASKING_FAILED) return whole('masking_failed');
  if (args === DIGEST) return whole('digested');
  return { args };
}

function runOf(c: ReplayCall): CandidateInput['run'] | undefined {
  const run: NonNullable<CandidateInput['run']> = {};
  if (c.principalId !== undefined) run.principal = { id: c.principalId, ...(c.principalType !== undefined ? { type: c.principalType } : {}) };
  if (c.agentName !== undefined || c.agentId !== undefined) {
    run.agent = { ...(c.agentName !== undefined ? { name: c.agentName } : {}), ...(c.agentId !== undefined ? { id: c.agentId } : {}) };
  }
  if (c.runId !== undefined) run.runId = c.runId;
  if (c.runAttributes !== undefined) run.attributes = c.runAttributes;
  return Object.keys(run).length > 0 ? run : undefined;
}

/** The rules one evaluation went through: matching ones in file order, up to the one that ended it. */
function rulesPassed(candidate: Candidate, tool: string, d: CandidateDecision) {
  const out: Candidate['rules'][number][] = [];
  for (const r of candidate.rules) {
    if (!r.matches(tool)) continue;
    out.push(r);
    if (d.kind !== 'rewrite' && r.id === d.rule) break;
  }
  return out;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const ruleIds = new WeakMap<Candidate, Set<string>>();

export function replayCall(candidate: Candidate, c: ReplayCall): Verdict {
  let ids = ruleIds.get(candidate);
  if (ids === undefined) ruleIds.set(candidate, (ids = new Set(candidate.rules.map((r) => r.id))));
  const recorded = recordedDecision(c, ids);
  const notes: string[] = [];
  if (recorded.by === 'unknown') {
    notes.push(`the recorded rule ${recorded.askRule ?? recorded.rule} is not in the candidate: a code rule (which still decides as recorded) or a file rule the candidate dropped`);
  }
  if (recorded.kind === 'invalid') {
    return { kind: 'invalid', call: c, recorded, notes: ['recorded invalid: the schema refused the arguments, no policy ran (the candidate would not run either)'] };
  }
  const { args, root } = parseArgs(c);
  const holes = root ? [root] : findHoles(args);
  if (c.truncated?.includes('arguments')) notes.push('arguments were cut to the size cap when recorded');
  else if (c.argumentsHashed) notes.push('the arguments were recorded as a digest');
  if (recorded.kind === 'rewrite') notes.push('the recorded arguments are the rewritten ones');
  const run = runOf(c);
  const runView = { run: { principal: run?.principal, agent: run?.agent, run_id: run?.runId, attributes: run?.attributes } };
  const runHoles = findHoles(runView);

  const reads: Read[] = [];
  const input: CandidateInput = { tool: c.tool, args, ...(c.callId ? { callId: c.callId } : {}), ...(run ? { run } : {}) };
  let decision: CandidateDecision;
  try {
    decision = candidate.evaluate(input, { read: (p) => reads.push(traceRead(p)) });
  } catch (err) {
    // The evaluator never throws by contract; if it does, fail closed as it would.
    decision = { kind: 'deny', rule: undefined, reason: 'the candidate threw', error: err };
  }
  for (const r of rulesPassed(candidate, c.tool, decision)) if (r.when !== undefined) reads.push(...conditionReads(r.when));

  const touched = new Set<Hole>();
  for (const r of reads) {
    const hit = r.on === 'all' ? holes : r.on === 'args' ? holesRead(holes, r.path, args) : holesRead(runHoles, r.path, runView);
    for (const h of hit) touched.add(h);
  }
  if (touched.size > 0) {
    const hs = [...touched];
    return {
      kind: 'undecidable',
      call: c,
      recorded,
      needed: {
        causes: [...new Set(hs.map((h) => h.cause))].sort(),
        paths: [...new Set(hs.map((h) => (h.path === '' ? '(all arguments)' : h.path)))].sort(),
        kinds: [...new Set(hs.flatMap((h) => h.kinds))].sort(),
      },
      notes,
    };
  }
  const cand: NonNullable<Verdict['candidate']> = {
    kind: decision.kind,
    rule: decision.rule,
    reason: decision.reason,
    ...(decision.error !== undefined ? { error: errorText(decision.error) } : {}),
  };
  if (cand.error !== undefined) notes.push(`the candidate's condition threw (fails closed: deny): ${cand.error}`);
  const expected = expectedKind(recorded, decision.kind);
  return { kind: expected === recorded.kind ? 'same' : 'differs', call: c, recorded, candidate: cand, expected, notes };
}
