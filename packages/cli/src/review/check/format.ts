import { printable, printableLines } from '../../terminal-text.js';
import type { CheckResult } from './run-check.js';

const MISTAKE_WORD = { 3: 'three', 4: 'four', 5: 'five' } as const;
const STATUS_WORD = { pass: 'PASS', fail: 'FAIL', unknown: 'UNKNOWN' } as const;

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/**
 * The terminal output: a table with one verdict per question, then what each verdict rests on.
 * Summaries and details quote the trail (principal ids, agent names, file names): each is made
 * printable, so a recorded value cannot rewrite a verdict or the result line.
 */
export function formatCheck(r: CheckResult): string {
  const lines: string[] = [];
  lines.push(`tooltrail check: canary ${printable(r.nonce)}, tool ${printable(r.tool)}`);
  lines.push(`  auditor:   ${printable(r.auditor)}`);
  lines.push(`  read back: ${printable(r.source)}; ${r.polls} read(s) over ${(r.waitedMs / 1000).toFixed(1)} s${r.flushed ? '' : ' (the auditor did not confirm delivery)'}`);
  lines.push('');
  const rows = r.verdicts.map((v, i) => [String(i + 1), v.question, MISTAKE_WORD[v.mistake], STATUS_WORD[v.status], printable(v.summary)]);
  const head = ['#', 'question', 'mistake', 'verdict', 'why'];
  const widths = head.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const row = (cells: string[]) => `  ${cells.slice(0, 4).map((c, i) => pad(c, widths[i]!)).join('  ')}  ${cells[4]}`.trimEnd();
  lines.push(row(head));
  for (const cells of rows) lines.push(row(cells));
  for (const [i, v] of r.verdicts.entries()) {
    lines.push('');
    lines.push(`${i + 1}. ${v.question}: ${STATUS_WORD[v.status]}`);
    for (const d of v.details) lines.push(`   - ${printable(d)}`);
  }
  if (r.read.problems.length > 0) {
    lines.push('');
    lines.push('Problems reading the trail:');
    for (const p of r.read.problems) lines.push(`   - ${printable(p)}`);
  }
  lines.push('');
  lines.push(r.ok ? 'Result: PASS, all three questions' : `Result: FAIL: ${r.failing.join(', ')}`);
  return `${printableLines(lines.join('\n'))}\n`;
}
