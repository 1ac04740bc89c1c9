import type { StreamReport, VerifyReport } from './verify-streams.js';

export interface VerifyOutput {
  source: string;
  /** Problems reading the source: each counts as a finding. */
  sourceProblems: string[];
  checked: { macs: boolean; signatures: boolean; openStreamsAllowed: boolean };
  report: VerifyReport;
  ok: boolean;
}

function streamLine(s: StreamReport): string {
  const range = s.firstSeq === undefined ? 'no records' : `seq ${s.firstSeq}-${s.lastSeq}`;
  const dup = s.duplicates > 0 ? `, ${s.duplicates} identical duplicate(s) ignored` : '';
  const state = s.ended ? 'ended' : 'not ended';
  return `stream ${s.streamId}${s.service ? ` (${s.service})` : ''}: ${s.records} records, ${range}, ${s.checkpoints} checkpoint(s), ${state}${dup}`;
}

export function formatHuman(out: VerifyOutput): string {
  const lines = [`tooltrail verify: ${out.source}`];
  const notes: string[] = [];
  if (!out.checked.signatures) notes.push('checkpoint signatures NOT checked (no --public-key)');
  if (!out.checked.macs) notes.push('MACs NOT checked (no --mac-key)');
  if (notes.length > 0) lines.push(`  note: ${notes.join('; ')}`);
  for (const p of out.sourceProblems) lines.push(`  FINDING source: ${p}`);
  if (out.report.streams.length === 0) lines.push('  no tooltrail streams found');
  for (const s of out.report.streams) {
    lines.push(`  ${streamLine(s)}`);
    for (const f of s.findings) lines.push(`    FINDING ${f.kind}: ${f.message}`);
  }
  if (out.report.unchainedSpans > 0) lines.push(`  ${out.report.unchainedSpans} span(s) without integrity attributes were ignored`);
  const total = out.report.findings + out.sourceProblems.length;
  lines.push(out.ok ? 'OK: every stream is complete and unedited' : `FAILED: ${total} finding(s)`);
  return lines.join('\n');
}
