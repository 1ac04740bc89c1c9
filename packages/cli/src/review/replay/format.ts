/**
 * `tooltrail policy test` output: a terminal table (counts per kind first, then the calls) and
 * the `--json` document. Both are a contract (docs/review.md).
 */
import { printable, printableCut, printableLines } from '../../terminal-text.js';
import type { Verdict } from './replay.js';
import type { ReplaySummary } from './summary.js';

export interface ReplayReport {
  candidate: { id: string; version: string; path: string };
  source: string;
  range: { since?: string; until?: string };
  /** Records read (all kinds) and source problems (torn lines, failed queries). */
  read: { records: number; problems: string[]; problemCount: number };
  summary: ReplaySummary;
  calls: Verdict[];
  /** Whether the whole source was read (no source problems); false: the replay is incomplete. */
  complete: boolean;
  exitCode: number;
}

const decisionText = (kind: string, rule: string | undefined): string => `${kind}${rule !== undefined ? ` (${rule})` : ' (default)'}`;

function recordedText(v: Verdict): string {
  const r = v.recorded;
  if (r.kind === 'invalid') return 'invalid';
  const head = r.kind === 'ask' && r.approval !== undefined ? `ask→${r.approval}` : r.kind;
  const by = r.by === 'unknown' ? 'file or code' : r.by;
  const rule = r.askRule !== undefined && r.rule !== r.askRule ? `${r.askRule}→${r.rule}` : r.rule;
  return rule !== undefined ? `${head} (${rule}; ${by})` : `${head} (${by})`;
}

function candidateText(v: Verdict): string {
  if (v.kind === 'invalid') return 'not replayed (invalid)';
  if (v.kind === 'undecidable' && v.needed) {
    const kinds = v.needed.kinds.filter((k) => k !== 'partial');
    return `cannot decide: ${v.needed.causes.join('/')} ${v.needed.paths.join(', ')}${kinds.length ? ` [${kinds.join(', ')}]` : ''}`;
  }
  if (!v.candidate) return '';
  const own = decisionText(v.candidate.kind, v.candidate.rule);
  return v.expected !== undefined && v.expected !== v.candidate.kind ? `${own}, chain: ${v.expected}` : own;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd()).join('\n');
}

/** A value from the trail in a cell: made printable (terminal-text.ts), then cut to `max`. */
const cell = (s: string | undefined, max = 40): string => printableCut(s ?? '-', max);
/** Trace ids are what one copies, so they are not cut at 40; a forged one of any length is, at 64. */
const MAX_ID = 64;

export function formatReplay(r: ReplayReport, limit: number): string {
  const s = r.summary;
  const lines: string[] = [];
  lines.push(`policy test: candidate ${printable(r.candidate.id)} ${printable(r.candidate.version)} (${printable(r.candidate.path)})`);
  lines.push(`read: ${printable(r.source)}; ${s.calls} call(s) in ${r.read.records} record(s)${r.range.since ? ` since ${r.range.since}` : ''}${r.range.until ? ` until ${r.range.until}` : ''}`);
  const changes = printable(Object.entries(s.changes).map(([k, n]) => `${k} ${n}`).join(', '));
  const causes = Object.entries(s.undecidableBy).map(([k, n]) => `${k} ${n}`).join(', ');
  lines.push('');
  lines.push(
    table([
      ['decided differently', String(s.differs), changes],
      ['cannot decide', String(s.undecidable), causes],
      ['recorded invalid', String(s.invalid), s.invalid ? 'the schema refused them; not replayed' : ''],
      ['decided as recorded', String(s.same), ''],
    ]),
  );
  if (r.read.problemCount > 0) {
    lines.push('', `source problems (${r.read.problemCount}):`, ...r.read.problems.slice(0, 10).map((p) => `  - ${printable(p)}`));
  }
  if (r.calls.length > 0) {
    const shown = limit > 0 ? r.calls.slice(0, limit) : r.calls;
    const rows = [['KIND', 'TIME', 'AGENT', 'PRINCIPAL', 'TOOL', 'TRACE', 'RECORDED', 'CANDIDATE']];
    for (const v of shown) {
      rows.push([
        v.kind === 'undecidable' ? 'cannot decide' : v.kind,
        new Date(v.call.time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        cell(v.call.agentName ?? v.call.agentId, 24),
        cell(v.call.principalId, 28),
        cell(v.call.tool, 28),
        cell(v.call.traceId, MAX_ID),
        cell(recordedText(v), 48),
        cell(candidateText(v), 80),
      ]);
    }
    lines.push('', table(rows));
    if (shown.length < r.calls.length) lines.push(`… ${r.calls.length - shown.length} more (--limit 0 lists all, --json has every call)`);
  }
  lines.push('');
  const differs = `${s.differs} call(s) decided differently, ${s.undecidable} that cannot be decided from the record (a value the candidate needs is masked, cut or digested)`;
  if (!r.complete) {
    // Never OK over a source that was not read whole: the calls not read were not replayed.
    const of = s.differs + s.undecidable > 0 ? `of that, ${differs}.` : 'of that, every call is decided as recorded.';
    lines.push(`INCOMPLETE: ${r.read.problemCount} problem(s) reading the source (listed above): the replay covers only what was read; ${of}`);
  } else if (s.calls === 0) lines.push('NO CALLS: no tool call was read from the source in this range: the candidate was tested on nothing.');
  else lines.push(r.exitCode === 0 ? 'OK: the candidate decides every call as recorded.' : `DIFFERS: ${differs}.`);
  return `${printableLines(lines.join('\n'))}\n`;
}

/** The `--json` document: the report as is, with verdicts trimmed to what the record said. */
export function replayJson(r: ReplayReport): unknown {
  return {
    ...r,
    calls: r.calls.map((v) => ({
      kind: v.kind,
      time: new Date(v.call.time).toISOString(),
      traceId: v.call.traceId,
      spanId: v.call.spanId,
      callId: v.call.callId,
      tool: v.call.tool,
      agent: v.call.agentName ?? v.call.agentId,
      principal: v.call.principalId,
      runId: v.call.runId,
      outcome: v.call.outcome,
      recorded: v.recorded,
      ...(v.candidate ? { candidate: v.candidate } : {}),
      ...(v.expected ? { expected: v.expected } : {}),
      ...(v.needed ? { needed: v.needed } : {}),
      notes: v.notes,
    })),
  };
}
