import type { VerifySource } from '../../verify/sources.js';
import { readCalls } from '../calls.js';
import { CANARY_PRINCIPAL_PREFIX } from './canary.js';

/**
 * The second half of question 2 (mistake three), over the trail's recent records: a principal
 * that is a shared key rather than the person or client a run acts for. The calls of this
 * check's own canary runs are left out by their run ids; earlier checks' runs each have a
 * principal of their own, so they raise no flag.
 */

export interface PrincipalFlag {
  /** `single-principal`: every run of every agent, or every one of an agent's many runs, ran as one principal. `service-account`: the principal looks like one. `unattributed`: calls ran with no principal at all. */
  kind: 'single-principal' | 'service-account' | 'unattributed';
  principal?: string;
  principalType?: string;
  calls: number;
  runs: number;
  agents: string[];
  why: string;
}

export interface RecentScan {
  description: string;
  since: string;
  until: string;
  calls: number;
  runs: number;
  agents: number;
  principals: number;
  flags: PrincipalFlag[];
  problems: string[];
}

const SHAPES: [RegExp, string][] = [
  [/^svc[-_.:]/i, 'it starts like a service account (svc-)'],
  [/service[-_.]?account/i, 'it names a service account'],
  [/^system:serviceaccount:/i, 'it is a Kubernetes service account'],
  [/\.iam\.gserviceaccount\.com$/i, 'it is a Google Cloud service account'],
  [/(^|[^a-z0-9])bot($|[^a-z0-9])|\[bot\]$/i, 'it names a bot'],
  [/^(sk|pk|rk|api|apikey|api_key|key|token|secret|tt)[-_]/i, 'it looks like an API key'],
  [/^(AKIA|ASIA)[A-Z0-9]{16}$/, 'it looks like an access key id'],
];
const SERVICE_TYPES = new Set(['service', 'service_account', 'service-account', 'serviceaccount', 'bot', 'machine', 'api_key', 'apikey', 'application']);

/** Why a principal looks like a shared credential rather than who a run acts for; undefined when it does not. */
export function serviceAccountShape(id: string, type?: string): string | undefined {
  for (const [re, why] of SHAPES) if (re.test(id)) return why;
  // A long random token with no word in front (`user_2aBc…` is an id; `9fQ2xL…` is a key).
  if (/^[A-Za-z0-9+/=]{24,}$/.test(id) && /[a-z]/.test(id) && /[A-Z]/.test(id) && /\d/.test(id)) return 'it looks like an API key';
  if (type !== undefined && SERVICE_TYPES.has(type.toLowerCase())) return `its type is "${type}"`;
  return undefined;
}

interface PrincipalTally {
  type?: string;
  calls: number;
  runs: Set<string>;
  agents: Set<string>;
}

/** An agent with at least this many runs, all under one principal, is flagged: two runs of one person's agent in a period are ordinary. */
export const AGENT_SHARED_MIN_RUNS = 3;

export async function scanRecent(source: VerifySource, since: Date, until: Date, skipRunIds: ReadonlySet<string> = new Set()): Promise<RecentScan> {
  const byPrincipal = new Map<string, PrincipalTally>();
  // Per agent: its runs, and the principals they ran as (a run counts under each it used).
  const byAgent = new Map<string, { runs: Set<string>; principals: Map<string, { runs: Set<string>; calls: number; type?: string }> }>();
  const runs = new Set<string>();
  const appRuns = new Set<string>();
  const agents = new Set<string>();
  const bare = { calls: 0, runs: new Set<string>(), agents: new Set<string>() };
  let calls = 0;
  let info: { problems: string[]; problemCount: number; description: string } = { problems: [], problemCount: 0, description: '' };
  for await (const c of readCalls(source, { since, until }, { onDone: (i) => (info = i) })) {
    if (c.runId !== undefined && skipRunIds.has(c.runId)) continue;
    calls++;
    const agent = c.agentName ?? c.agentId ?? '(no agent name)';
    agents.add(agent);
    if (c.runId !== undefined) runs.add(c.runId);
    // Earlier checks' canary runs each ran under a principal of their own: left out of the
    // whole-trail test, or one earlier check would hide an app whose every run shares a key.
    if (c.runId !== undefined && !c.principalId?.startsWith(CANARY_PRINCIPAL_PREFIX)) appRuns.add(c.runId);
    if (c.runId !== undefined && c.principalId !== undefined) {
      let a = byAgent.get(agent);
      if (!a) byAgent.set(agent, (a = { runs: new Set(), principals: new Map() }));
      a.runs.add(c.runId);
      let p = a.principals.get(c.principalId);
      if (!p) a.principals.set(c.principalId, (p = { runs: new Set(), calls: 0, ...(c.principalType !== undefined ? { type: c.principalType } : {}) }));
      p.runs.add(c.runId);
      p.calls++;
    }
    if (c.principalId === undefined) {
      // Denied for want of an identity is requireIdentity working; a call that ran is unattributed.
      if (c.outcome !== 'denied' && c.outcome !== 'invalid') {
        bare.calls++;
        if (c.runId !== undefined) bare.runs.add(c.runId);
        bare.agents.add(agent);
      }
      continue;
    }
    let t = byPrincipal.get(c.principalId);
    if (!t) byPrincipal.set(c.principalId, (t = { calls: 0, runs: new Set(), agents: new Set(), ...(c.principalType !== undefined ? { type: c.principalType } : {}) }));
    t.calls++;
    if (c.runId !== undefined) t.runs.add(c.runId);
    t.agents.add(agent);
  }
  const flags: PrincipalFlag[] = [];
  const base = (id: string, t: PrincipalTally) => ({
    principal: id,
    ...(t.type !== undefined ? { principalType: t.type } : {}),
    calls: t.calls,
    runs: t.runs.size,
    agents: [...t.agents].sort(),
  });
  let everyone = false;
  const appPrincipals = [...byPrincipal].filter(([id]) => !id.startsWith(CANARY_PRINCIPAL_PREFIX));
  if (appPrincipals.length === 1 && appRuns.size >= 2) {
    const [id, t] = appPrincipals[0]!;
    if (t.runs.size === appRuns.size) {
      everyone = true;
      flags.push({
        kind: 'single-principal',
        ...base(id, t),
        why: `all ${appRuns.size} runs of ${t.agents.size} agent(s) ran as "${id}": one identity for everyone, so the trail cannot say who a run acted for`,
      });
    }
  }
  // The same test per agent: one agent's runs all under one key while other agents use their
  // own is the shared key too (the whole-trail test above misses it). Said once when the
  // whole-trail flag already names it.
  if (!everyone) {
    for (const [agent, a] of [...byAgent].sort(([x], [y]) => x.localeCompare(y))) {
      if (a.runs.size < AGENT_SHARED_MIN_RUNS || a.principals.size !== 1) continue;
      const [id, p] = [...a.principals][0]!;
      flags.push({
        kind: 'single-principal',
        principal: id,
        ...(p.type !== undefined ? { principalType: p.type } : {}),
        calls: p.calls,
        runs: a.runs.size,
        agents: [agent],
        why: `all ${a.runs.size} runs of agent "${agent}" ran as "${id}": one identity for every run of the agent, so the trail cannot say who a run acted for`,
      });
    }
  }
  for (const [id, t] of byPrincipal) {
    const why = serviceAccountShape(id, t.type);
    if (why) flags.push({ kind: 'service-account', ...base(id, t), why: `principal "${id}" looks like a shared credential: ${why}` });
  }
  if (bare.calls > 0) {
    flags.push({
      kind: 'unattributed',
      calls: bare.calls,
      runs: bare.runs.size,
      agents: [...bare.agents].sort(),
      why: `${bare.calls} call(s) ran with no principal recorded (outside any run, or a run without one)`,
    });
  }
  const problems = info.problemCount > 0 ? [`${info.problemCount} problem(s) reading ${info.description}: ${info.problems.slice(0, 3).join('; ')}`] : [];
  return {
    description: info.description,
    since: since.toISOString(),
    until: until.toISOString(),
    calls,
    runs: runs.size,
    agents: agents.size,
    principals: byPrincipal.size,
    flags,
    problems,
  };
}
