import type { VerifySource } from '../../verify/sources.js';
import { readCalls } from '../calls.js';
import { CANARY_CALL_PREFIX } from './canary.js';

/**
 * The second half of question 2 (mistake three), over the trail's recent records: a principal
 * that is a shared key rather than the person or client a run acts for. Calls of earlier checks
 * (call ids `tooltrail-check-…`) are left out.
 */

export interface PrincipalFlag {
  /** `single-principal`: every run of every agent ran as one principal. `service-account`: the principal looks like one. `unattributed`: calls ran with no principal at all. */
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

export async function scanRecent(source: VerifySource, since: Date, until: Date): Promise<RecentScan> {
  const byPrincipal = new Map<string, PrincipalTally>();
  const runs = new Set<string>();
  const agents = new Set<string>();
  const bare = { calls: 0, runs: new Set<string>(), agents: new Set<string>() };
  let calls = 0;
  let info: { problems: string[]; problemCount: number; description: string } = { problems: [], problemCount: 0, description: '' };
  for await (const c of readCalls(source, { since, until }, { onDone: (i) => (info = i) })) {
    if (c.callId.startsWith(CANARY_CALL_PREFIX)) continue;
    calls++;
    const agent = c.agentName ?? c.agentId ?? '(no agent name)';
    agents.add(agent);
    if (c.runId !== undefined) runs.add(c.runId);
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
  if (byPrincipal.size === 1 && runs.size >= 2) {
    const [id, t] = [...byPrincipal][0]!;
    if (t.runs.size === runs.size) {
      flags.push({
        kind: 'single-principal',
        ...base(id, t),
        why: `all ${runs.size} runs of ${agents.size} agent(s) ran as "${id}": one identity for everyone, so the trail cannot say who a run acted for`,
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
