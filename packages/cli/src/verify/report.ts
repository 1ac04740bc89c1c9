import path from 'node:path';
import { printable } from '../terminal-text.js';
import { plainFinding, type Finding } from './findings.js';
import { formatRanges } from './ranges.js';
import type { SourceRead } from './query-sources.js';
import type { SealSummary } from './seals.js';
import type { StreamReport } from './stream-checks.js';
import type { VerifyReport } from './verifier.js';

/**
 * The verdict and its two renderings (human, JSON). A contract (docs/integrity.md): exit 0 and
 * the words "complete and unedited" only when trusted keys verified the signatures (and the
 * collector's seals, where the files carry them); exit 3 when nothing was found but authenticity
 * was not established, with the reasons; exit 1 for findings.
 */

export type Verdict = 'verified' | 'findings' | 'not-authenticated';

export interface Checked {
  /** Structure: sequence, hashes, links, checkpoint chain and coverage. Always. */
  structure: true;
  macs: boolean;
  signatures: boolean;
  /** Trusted collector keys were given (the seals' signatures were checked). */
  seals: boolean;
  openStreamsAllowed: boolean;
  stream?: string;
  run?: string;
}

/** How much was read: spans (records) always; traces, queries and windows for a query API. */
export type ReadSummary = { spans: number } & Partial<SourceRead>;

export interface VerifyOutput {
  source: string;
  /** How much was read from the source (a query API: traces, spans, queries, windows). */
  read?: ReadSummary;
  /** Problems reading the source (the first 100): each counts as a finding. */
  sourceProblems: string[];
  sourceProblemCount: number;
  checked: Checked;
  /** The collector's seals, for a folder written by `tooltrail collect`. */
  seals?: SealSummary;
  report: VerifyReport;
  verdict: Verdict;
  exitCode: 0 | 1 | 3;
  /** Every finding: source problems, the collector's seal findings, the trail's and the streams'. */
  findings: number;
  /** Why the trail is not authenticated (exit 3; with findings, what else was not established). */
  notAuthenticated: string[];
  /** Exit code 0. */
  ok: boolean;
}

export function decide(input: {
  source: string;
  sourceProblems: string[];
  sourceProblemCount: number;
  checked: Checked;
  seals: SealSummary | undefined;
  report: VerifyReport;
  read?: ReadSummary;
}): VerifyOutput {
  const { report, seals, checked } = input;
  // A collector still writing has lines after its last seal: with --allow-open that is "not
  // authenticated yet" (exit 3), like a live stream's unsigned tail; otherwise a finding.
  const liveTail = (f: SealSummary['findings'][number]) => checked.openStreamsAllowed && f.kind === 'unsealed-tail';
  const sealFindings: Finding[] = (seals?.findings ?? []).filter((f) => !liveTail(f)).map((f) => {
    const where = f.file !== undefined ? [`${path.basename(f.file)}${f.lines ? `:${f.lines[0]}-${f.lines[1]}` : ''}`] : undefined;
    return { ...plainFinding('seal', f.message, 1, where), sealKind: f.kind };
  });
  report.trailFindings.unshift(...sealFindings);
  report.findings += sealFindings.length;
  const findings = report.findings + input.sourceProblemCount;

  const why: string[] = [];
  if (!checked.signatures) {
    why.push('no --public-key was given, so no checkpoint signature was checked: anyone who can write to the trail could have written every record and checkpoint in it');
  } else {
    for (const s of report.streams) {
      if (s.unsignedTail.length > 0 && s.findings.length === 0) {
        why.push(`stream ${s.streamId}: records ${formatRanges(s.unsignedTail, 0, 5)} come after its last signed checkpoint; nothing signed vouches for them yet`);
      }
    }
  }
  if (seals) {
    // Seals are present when the collector ran with a seal key (a sealed line, or a seal finding).
    const present = seals.sealedLines > 0 || seals.findings.length > 0;
    if (checked.seals) {
      for (const f of seals.findings.filter(liveTail)) why.push(`the collector is still writing (or was stopped without closing): ${f.message}`);
      const unverified = seals.chainedLines - seals.verifiedLines;
      if (seals.chainedLines === 0) why.push('--collector-key was given, but no line carries the collector\'s chain (old-format files only): nothing was sealed');
      else if (!present) why.push('--collector-key was given, but no line is sealed: the collector ran without --seal-key, or its seals were removed');
      else if (unverified > 0) why.push(`${unverified} of ${seals.chainedLines} line(s) carrying the collector's chain are not covered by a seal a trusted collector key verified`);
    } else if (present) {
      why.push(`the collector's files carry seals (${seals.sealedLines} sealed line(s)), but no --collector-key was given: the seals were not checked`);
    } else if (seals.chainedLines > 0) {
      report.notes.push("the collector's lines are chained but not sealed (it ran without --seal-key): edits at rest are caught by the agent's chain only");
    }
    // Seals "where present": lines written before seals existed carry none, and say so.
    if (seals.legacyLines > 0 && seals.chainedLines > 0) report.notes.push(`${seals.legacyLines} line(s) are in the old format (v1), which carries no collector seal: only the agent's chain vouches for them`);
  }
  const verdict: Verdict = findings > 0 ? 'findings' : why.length > 0 || !report.authenticated ? 'not-authenticated' : 'verified';
  if (verdict === 'not-authenticated' && why.length === 0) why.push('not every stream is covered by verified signatures');
  const exitCode = verdict === 'verified' ? 0 : verdict === 'findings' ? 1 : 3;
  return {
    source: input.source,
    ...(input.read ? { read: input.read } : {}),
    sourceProblems: input.sourceProblems,
    sourceProblemCount: input.sourceProblemCount,
    checked,
    ...(seals ? { seals } : {}),
    report,
    verdict,
    exitCode,
    findings,
    notAuthenticated: why,
    ok: exitCode === 0,
  };
}

/** Untrusted text (service names, stream ids, file names) must not drive the terminal: the shared sanitiser. */
export { printable };

function streamLine(s: StreamReport): string {
  const range = s.firstSeq === undefined ? 'no records' : `seq ${s.firstSeq}-${s.lastSeq}`;
  const dup = s.duplicates > 0 ? `, ${s.duplicates} identical duplicate(s) ignored` : '';
  const state = s.ended ? 'ended' : 'not ended';
  const writers = s.writers.filter((w) => w !== '');
  const by = writers.length > 0 ? ` written by ${writers.join(', ')}` : '';
  const signed = s.signedThrough > 0 && !(s.ended && s.lastSeq !== undefined && s.signedThrough >= s.lastSeq) ? `, signed through seq ${s.signedThrough}` : '';
  const run = s.run ? `; run: ${s.run.records} record(s), seq ${formatRanges(s.run.ranges, 0, 5)}` : '';
  return `stream ${s.streamId}${s.service ? ` (${s.service})` : ''}${by}: ${s.records} records, ${range}, ${s.checkpoints} checkpoint(s), ${state}${signed}${dup}${run}`;
}

function findingLine(f: Finding, indent: string): string {
  const where = f.where && f.where.length > 0 ? ` [at ${f.where.join(', ')}${f.count > f.where.length ? ', ...' : ''}]` : '';
  return `${indent}FINDING ${f.kind === 'seal' && f.sealKind ? `seal ${f.sealKind}` : f.kind}: ${f.message}${where}`;
}

function duration(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${ms} ms`;
}

/** "read: 1234 trace(s), 100000 span(s) ..." */
export function readLine(r: ReadSummary): string {
  if (r.traces === undefined) return `read: ${r.spans} record(s)`;
  const other = r.otherSpans ? ` (and ${r.otherSpans} of other services, not checked)` : '';
  const sizes =
    r.windows && r.smallestWindowMs !== undefined && r.largestWindowMs !== undefined
      ? ` of ${r.smallestWindowMs === r.largestWindowMs ? duration(r.smallestWindowMs) : `${duration(r.smallestWindowMs)} to ${duration(r.largestWindowMs)}`}`
      : '';
  const full = r.fullWindows ? `; ${r.fullWindows} window(s) still full at the smallest size (see the source problems)` : '';
  return `read: ${r.traces} trace(s), ${r.spans} span(s) of the service${other}, in ${r.queries ?? 0} quer${r.queries === 1 ? 'y' : 'ies'} over ${r.windows ?? 0} time window(s)${sizes}, at most ${r.pageTraces} traces per query${full}`;
}

export function formatHuman(out: VerifyOutput): string {
  const c = out.checked;
  const lines = [`tooltrail verify: ${out.source}`];
  if (out.read) lines.push(`  ${readLine(out.read)}`);
  const did = ['sequence numbers, record hashes and links, checkpoint chain and coverage'];
  if (c.macs) did.push('record MACs');
  if (c.signatures) did.push('checkpoint signatures with trusted keys');
  if (c.seals) did.push("the collector's seals with trusted collector keys");
  lines.push(`  checked: ${did.join('; ')}`);
  const not: string[] = [];
  if (!c.signatures) not.push('checkpoint signatures (no --public-key)');
  if (!c.macs) not.push('MACs (no --mac-key-file)');
  if (!c.seals && out.seals && out.seals.sealedLines > 0) not.push("the collector's seals (no --collector-key)");
  if (not.length > 0) lines.push(`  NOT checked: ${not.join('; ')}`);
  if (c.stream !== undefined) lines.push(`  only stream ${c.stream} (${out.report.skipped} span(s) of other streams skipped)`);
  if (c.run !== undefined) lines.push(`  only the streams holding run ${c.run} (${out.report.skipped} other stream(s) not shown)`);
  for (const p of out.sourceProblems) lines.push(`  FINDING source-problem: ${p}`);
  if (out.sourceProblemCount > out.sourceProblems.length) lines.push(`  FINDING source-problem: and ${out.sourceProblemCount - out.sourceProblems.length} more problem(s) reading the source`);
  for (const f of out.report.trailFindings) lines.push(findingLine(f, '  '));
  for (const s of out.report.streams) {
    lines.push(`  ${streamLine(s)}`);
    for (const f of s.findings) lines.push(findingLine(f, '    '));
  }
  if (out.seals && (out.seals.chainedLines > 0 || out.seals.legacyLines > 0)) {
    const sl = out.seals;
    lines.push(`  collector seals: ${sl.chainedLines} chained line(s), ${sl.sealedLines} sealed, ${sl.verifiedLines} verified with a trusted collector key; ${sl.legacyLines} line(s) in the old format (no seals)`);
  }
  for (const n of out.report.notes) lines.push(`  note: ${n}`);
  const streams = out.report.streams.length;
  if (out.verdict === 'verified') {
    const open = out.report.streams.filter((s) => !s.ended).length;
    const seals = c.seals ? " and by the collector's seals" : '';
    lines.push(
      open > 0
        ? `OK: ${streams} stream(s), verified by trusted signatures${seals}: every stream is complete and unedited up to its last signed checkpoint (${open} still open)`
        : `OK: ${streams} stream(s), verified by trusted signatures${seals}: every stream is complete and unedited`,
    );
  } else if (out.verdict === 'not-authenticated') {
    lines.push(`NOT AUTHENTICATED: no findings in what was checked, but authenticity was not established:`);
    for (const w of out.notAuthenticated) lines.push(`  - ${w}`);
  } else {
    lines.push(`FAILED: ${out.findings} finding(s)`);
  }
  return lines.map(printable).join('\n');
}
