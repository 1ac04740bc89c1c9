import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseTimeArg } from '../review/time-arg.js';
import { loadCandidate, PolicyFileProblems, type LoadedCandidate, type PolicyApi } from '../review/replay/candidate.js';
import { formatReplay, replayJson, type ReplayReport } from '../review/replay/format.js';
import { replayCall } from '../review/replay/replay.js';
import { readReplayCalls, type ReadInfo } from '../review/replay/source.js';
import { ReplayTally, sortVerdicts } from '../review/replay/summary.js';
import type { VerifySource } from '../verify/sources.js';
import { httpUrl, UsageError, type Io } from './io.js';

export const POLICY_USAGE = `Usage: tooltrail policy <test|check> [options]

  tooltrail policy test --policy <file> [source] [--since <t>] [--until <t>] [--json]
      Replays every recorded tool call of a trail against a candidate policy file: which calls
      it decides differently from what was recorded, and which it cannot decide because a value
      its conditions read was masked, cut or digested in the record (it says so; it never
      guesses). Code rules are taken as recorded; only the file's step is replayed.

  tooltrail policy check <file> [--json]
      Validates a policy file (schema, CEL conditions, globs) and prints its id and version.

Exit codes (test): 0 every call decided as recorded, the whole source read; 1 a call is decided
differently or cannot be decided, the folder does not exist, or the source had problems
(unreadable files, torn lines, failed queries: the replay is incomplete, and says so); 2 bad
command line or an unusable policy file.
Exit codes (check): 0 valid; 1 not valid (every problem listed); 2 bad command line.

Sources (test, one):
  --trail <folder>          files written by tooltrail collect (default ./audit-trail)
  --jaeger <url>            Jaeger's query API (needs --service)
  --tempo <url>             Grafana Tempo's HTTP API (needs --service)
  --service <name>          service.name to read from Jaeger or Tempo

Options (test):
  --policy <file>           the candidate policy file (.json, .yaml, .yml)
  --since <duration|date>   calls from: 90m, 24h, 7d, 2w ago or an ISO date, UTC unless it
                            names a zone (default: files all, Jaeger/Tempo 7d)
  --until <duration|date>   calls before (default now)
  --base-dir <folder>       what relative file paths in arguments resolve against (default .)
  --all                     list the calls decided as recorded too
  --limit <n>               calls listed in the table (default 200; 0: all). --json lists all
  --json                    machine-readable output
`;

/**
 * Core's policy module, loaded when a policy command runs: the other commands keep working with
 * a core build that predates it.
 */
async function policyApi(): Promise<PolicyApi> {
  try {
    const api: PolicyApi = await import('@tooltrail/core/policy');
    return api;
  } catch (err) {
    throw new Error(`@tooltrail/core/policy could not be loaded (is @tooltrail/core up to date?): ${(err as Error).message}`);
  }
}

function nonEmpty(v: string | undefined, option: string): string | undefined {
  if (v !== undefined && v.trim() === '') throw new UsageError(`${option} needs a value`);
  return v;
}

function sourceOf(values: Record<string, string | boolean | undefined>, now: Date): { source: VerifySource; since?: Date; until?: Date } {
  const trail = nonEmpty(values.trail as string | undefined, '--trail');
  const jaeger = nonEmpty(values.jaeger as string | undefined, '--jaeger');
  const tempo = nonEmpty(values.tempo as string | undefined, '--tempo');
  if ([trail, jaeger, tempo].filter((v) => v !== undefined).length > 1) throw new UsageError('give one source: --trail, --jaeger or --tempo');
  if (jaeger !== undefined) httpUrl(jaeger, '--jaeger');
  if (tempo !== undefined) httpUrl(tempo, '--tempo');
  const at = (v: unknown, option: string): Date | undefined => {
    if (v === undefined) return undefined;
    try {
      return parseTimeArg(String(v), now);
    } catch (err) {
      throw new UsageError(`${option}: ${(err as Error).message}`);
    }
  };
  let since = at(values.since, '--since');
  const until = at(values.until, '--until');
  let source: VerifySource;
  if (jaeger !== undefined || tempo !== undefined) {
    const service = nonEmpty(values.service as string | undefined, '--service');
    if (service === undefined) throw new UsageError('--jaeger and --tempo need --service');
    since ??= parseTimeArg('7d', now);
    const end = until ?? now;
    source = jaeger !== undefined ? { kind: 'jaeger', url: jaeger, service, since, until: end } : { kind: 'tempo', url: tempo as string, service, since, until: end };
  } else {
    if (values.service !== undefined) throw new UsageError('--service applies to --jaeger and --tempo');
    source = { kind: 'dir', dir: trail ?? 'audit-trail' };
  }
  if (since && until && until.getTime() < since.getTime()) throw new UsageError('--until is before --since');
  return { source, ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

async function test(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      policy: { type: 'string' },
      trail: { type: 'string' },
      jaeger: { type: 'string' },
      tempo: { type: 'string' },
      service: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'base-dir': { type: 'string' },
      all: { type: 'boolean' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(POLICY_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const file = nonEmpty(values.policy, '--policy');
  if (file === undefined) throw new UsageError('policy test needs --policy <file>');
  let limit = 200;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit must be a whole number, 0 or more, got "${values.limit}"`);
  }
  const now = new Date();
  const { source, since, until } = sourceOf(values, now);
  const baseDir = nonEmpty(values['base-dir'], '--base-dir');
  // The trail reader takes a missing folder for an empty trail: a replay of a mistyped path
  // must not read as "every call decided as recorded" (report does the same).
  if (source.kind === 'dir' && !existsSync(source.dir)) {
    io.err(`tooltrail policy test: no such folder: ${source.dir}\n`);
    return 1;
  }
  const api = await policyApi();
  let candidate: LoadedCandidate;
  try {
    candidate = loadCandidate(api, file, baseDir !== undefined ? { baseDir } : {});
  } catch (err) {
    if (!(err instanceof PolicyFileProblems)) throw err;
    io.err(`tooltrail policy test: the candidate policy is not valid:\n${err.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 2;
  }

  const tally = new ReplayTally(values.all ? () => true : undefined);
  let info: ReadInfo = { problems: [], problemCount: 0, description: '', records: 0 };
  for await (const call of readReplayCalls(source, { ...(since ? { since } : {}), ...(until ? { until } : {}) }, (i) => (info = i))) {
    tally.add(replayCall(candidate, call));
  }
  const report: ReplayReport = {
    candidate: { id: candidate.id, version: candidate.version, path: file },
    source: info.description,
    range: { ...(since ? { since: since.toISOString() } : {}), ...(until ? { until: until.toISOString() } : {}) },
    read: { records: info.records, problems: info.problems, problemCount: info.problemCount },
    summary: tally.summary,
    calls: sortVerdicts(tally.listed),
    complete: info.problemCount === 0,
    // A replay of what could not be read passes nothing: a source problem is exit 1 too.
    exitCode: info.problemCount > 0 ? 1 : tally.exitCode(),
  };
  io.out(values.json ? `${JSON.stringify(replayJson(report), null, 2)}\n` : formatReplay(report, limit));
  return report.exitCode;
}

async function check(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.out(POLICY_USAGE);
    return 0;
  }
  if (positionals.length !== 1 || (positionals[0] as string).trim() === '') throw new UsageError('policy check needs one policy file');
  const file = positionals[0] as string;
  const api = await policyApi();
  try {
    const c = loadCandidate(api, file);
    const out = { valid: true, path: file, id: c.id, version: c.version, rules: c.rules.length };
    io.out(values.json ? `${JSON.stringify(out, null, 2)}\n` : `OK: ${file}: policy ${c.id} ${c.version} (${c.rules.length} rule(s))\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyFileProblems)) throw err;
    const out = { valid: false, path: file, problems: err.problems };
    io.out(
      values.json
        ? `${JSON.stringify(out, null, 2)}\n`
        : `NOT VALID: ${file}: ${err.problems.length} problem(s)\n${err.problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
    return 1;
  }
}

export async function policy(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) throw new UsageError('give a subcommand: test or check');
  if (sub === '-h' || sub === '--help' || sub === 'help') {
    io.out(POLICY_USAGE);
    return 0;
  }
  if (sub === 'test') return test(rest, io);
  if (sub === 'check') return check(rest, io);
  throw new UsageError(`unknown subcommand "${sub}" (test or check)`);
}
