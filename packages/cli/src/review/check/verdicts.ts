import type { CanaryPlan } from './canary.js';
import type { RecentScan } from './principals.js';
import type { ReadBack } from './read-back.js';
import type { CanaryAttempt } from './run-canary.js';

/** `unknown`: the question could not be answered (nothing to look at); it does not pass. */
export type VerdictStatus = 'pass' | 'fail' | 'unknown';
export type VerdictId = 'denied' | 'attributed' | 'masked';

export interface Verdict {
  id: VerdictId;
  question: string;
  /** The seeds' mistake this question catches. */
  mistake: 3 | 4 | 5;
  status: VerdictStatus;
  summary: string;
  details: string[];
}

export interface VerdictInput {
  plan: CanaryPlan;
  attempts: CanaryAttempt[];
  readBack: ReadBack;
  recent: RecentScan | undefined;
  /** Why the recent-records scan failed (then `recent` is undefined). */
  recentError?: string;
  waitedMs: number;
}

export const QUESTIONS: Record<VerdictId, { question: string; mistake: 3 | 4 | 5 }> = {
  denied: { question: 'the denied attempt is recorded', mistake: 5 },
  attributed: { question: 'attributed to its run and principal', mistake: 3 },
  masked: { question: 'the planted secrets are masked', mistake: 4 },
};

const verdict = (id: VerdictId, status: VerdictStatus, summary: string, details: string[]): Verdict => ({ id, ...QUESTIONS[id], status, summary, details });

/** Question 1 (mistake five): both out-of-scope calls are in the trail, as denied. */
export function deniedVerdict(v: VerdictInput): Verdict {
  const details: string[] = [];
  let good = 0;
  let allowed = 0;
  let lost = 0;
  // The record must say what the app saw: a denial recorded for a call whose body ran (or a call
  // recorded as run that the app saw denied) is a trail that does not say what happened.
  let deniedNotSeen = 0;
  let ranNotSeen: string | undefined;
  let ranCount = 0;
  const secs = `${Math.round(v.waitedMs / 100) / 10} s`;
  for (const run of v.plan.runs) {
    const a = v.attempts.find((x) => x.label === run.label);
    const found = v.readBack.calls[run.label];
    const inProcess = a?.result === 'denied' ? `denied in the app${a.rule ? ` by rule ${a.rule}` : ''}` : a?.result === 'allowed' ? 'allowed by the policy (its body ran; it does nothing)' : `failed in the app: ${a?.error ?? 'unknown'}`;
    if (a?.result === 'allowed') allowed++;
    if (found && found.view.outcome === 'denied') {
      if (a?.result === 'allowed') {
        deniedNotSeen++;
        details.push(`run ${run.label}: ${inProcess}; yet recorded as denied${found.view.rule ? ` by rule ${found.view.rule}` : ''} (${found.where})`);
      } else {
        good++;
        details.push(`run ${run.label}: recorded as denied${found.view.rule ? ` by rule ${found.view.rule}` : ''} (${found.where})`);
      }
    } else if (found) {
      if (a?.result === 'denied' && (found.view.outcome === 'ok' || found.view.outcome === 'error')) {
        ranCount++;
        ranNotSeen ??= found.view.outcome;
      }
      details.push(`run ${run.label}: ${inProcess}; recorded with outcome "${found.view.outcome}", not "denied" (${found.where})`);
    } else {
      if (a?.result === 'denied') lost++;
      details.push(`run ${run.label}: ${inProcess}; no record of it was read back within ${secs}`);
    }
  }
  if (deniedNotSeen > 0) return verdict('denied', 'fail', `${deniedNotSeen} record(s) say denied where the app saw the call allowed (its body ran): the trail does not say what happened`, details);
  if (ranCount > 0) return verdict('denied', 'fail', `${ranCount} record(s) say the call ran (outcome "${ranNotSeen}") where the app saw it denied: the trail does not say what happened`, details);
  if (good === 2) return verdict('denied', 'pass', `both out-of-scope calls are recorded as denied`, details);
  if (allowed > 0) {
    details.push(`the policy let the out-of-scope call "${v.plan.tool}" through: deny it (or allow only the tools the agent needs) so an attempt outside the agent's scope is stopped and recorded`);
    return verdict('denied', 'fail', `the policy allowed the out-of-scope call (${allowed} of 2)`, details);
  }
  if (lost > 0) {
    details.push(
      v.readBack.related > 0
        ? `${v.readBack.related} other record(s) of the check arrived, so the trail is reachable: the denials in particular are missing. Something between the auditor and the trail drops denied calls (mistake five: recording only the successes)`
        : `nothing of the check arrived at all: is the auditor sending to this trail (endpoint, token, service name)?`,
    );
    return verdict('denied', 'fail', `${lost} denied attempt(s) missing from the trail`, details);
  }
  return verdict('denied', 'fail', `the out-of-scope calls are not recorded as denied`, details);
}

/** Question 2 (mistake three): each call carries its own run and the principal it ran as; no shared key in the recent records. */
export function attributedVerdict(v: VerdictInput): Verdict {
  const details: string[] = [];
  const problems: string[] = [];
  let missing = 0;
  for (const run of v.plan.runs) {
    const found = v.readBack.calls[run.label];
    if (!found) {
      missing++;
      details.push(`run ${run.label}: not read back, its attribution could not be checked`);
      continue;
    }
    const c = found.view;
    if (c.principalId === undefined) problems.push(`run ${run.label}: recorded with no principal (it ran as "${run.principal.id}")`);
    else if (c.principalId !== run.principal.id) problems.push(`run ${run.label}: recorded under principal "${c.principalId}", not the principal it ran as ("${run.principal.id}")`);
    if (c.runId === undefined) problems.push(`run ${run.label}: recorded with no run id`);
    if (c.principalId === run.principal.id && c.runId !== undefined) details.push(`run ${run.label}: principal ${c.principalId}${c.principalType ? ` (${c.principalType})` : ''}, run ${c.runId}`);
  }
  const a = v.readBack.calls.a?.view;
  const b = v.readBack.calls.b?.view;
  if (a && b) {
    if (a.runId !== undefined && a.runId === b.runId) problems.push(`both calls carry run id "${a.runId}": the two runs cannot be told apart`);
    if (a.principalId !== undefined && a.principalId === b.principalId) problems.unshift(`both runs are recorded under one principal "${a.principalId}": a shared identity, not the one each run acted for`);
  }
  if (v.recent) {
    const r = v.recent;
    details.push(`recent records (${r.since} to ${r.until}): ${r.calls} call(s), ${r.runs} run(s), ${r.agents} agent(s), ${r.principals} principal(s)`);
    for (const f of v.recent.flags) problems.push(`recent records: ${f.why}${f.agents.length > 0 ? `; agents: ${f.agents.slice(0, 5).join(', ')}` : ''}`);
    details.push(...r.problems);
  } else {
    // Half the question is the scan: without it a shared key in the trail was never looked for.
    problems.push(`the recent-records scan failed, so a shared key in the trail was not looked for: ${v.recentError ?? 'no scan was made'}`);
  }
  if (problems.length > 0) return verdict('attributed', 'fail', problems[0]!, [...problems, ...details]);
  if (missing > 0) return verdict('attributed', 'unknown', `${missing} canary call(s) not read back: attribution not checked`, details);
  if (v.recent && v.recent.problems.length > 0) return verdict('attributed', 'unknown', `the recent-records scan could not read all of the trail: ${v.recent.problems[0]}`, details);
  return verdict('attributed', 'pass', 'each run is recorded with its own run id and the principal it ran as', details);
}

/** Question 3 (mistake four): neither planted secret is anywhere in the raw bytes read back. */
export function maskedVerdict(v: VerdictInput): Verdict {
  const rb = v.readBack;
  const searched = `${rb.bytes} byte(s), ${rb.records} record(s) read back`;
  if (rb.hits.length > 0) {
    const kinds = [...new Set(rb.hits.map((h) => h.kind))];
    const details = rb.hits.map((h) => `the planted ${h.kind} is there unmasked: ${h.where}`);
    return verdict('masked', 'fail', `the planted ${kinds.join(' and ')} ${kinds.length > 1 ? 'are' : 'is'} in the trail unmasked`, details);
  }
  if (rb.unread.length > 0) {
    // No hit in what was read says nothing of what was not.
    const n = rb.unread.length;
    return verdict('masked', 'unknown', `not all of the trail could be read (${n} problem${n === 1 ? '' : 's'}): a planted secret in what was not read would not be seen`, [...rb.unread, `neither planted secret occurs in the ${searched}`]);
  }
  const found = v.plan.runs.map((r) => rb.calls[r.label]).filter((f) => f !== undefined);
  if (found.length === 0) {
    return verdict('masked', 'unknown', 'no canary call was read back, so there was nothing of it to check', [`neither planted secret occurs in the ${searched}`]);
  }
  const details = [`neither planted secret (${v.plan.secrets.map((s) => s.kind).join(', ')}) occurs in the ${searched}`];
  const args = found[0]!.view.argsJson;
  if (args !== undefined) details.push(`recorded arguments: ${args.length > 300 ? `${args.slice(0, 300)}…` : args}`);
  return verdict('masked', 'pass', 'neither planted secret is in what was read back', details);
}

export function verdicts(v: VerdictInput): Verdict[] {
  return [deniedVerdict(v), attributedVerdict(v), maskedVerdict(v)];
}
