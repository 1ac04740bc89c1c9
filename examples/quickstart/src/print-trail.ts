import type { TrailRecord } from '@tooltrail/cli';

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function time(nanos: string): string {
  return new Date(Number(BigInt(nanos) / 1_000_000n)).toISOString().slice(11, 23);
}

/** The execute_tool records of one run as a table, in the order the calls started. */
export function formatTrail(records: TrailRecord[], runId: string): string {
  const calls = records
    .filter((r) => r.name.startsWith('execute_tool ') && r.attributes['tooltrail.run.id'] === runId)
    .sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
  const rows = [['time (UTC)', 'run', 'principal', 'tool', 'outcome', 'attempts', 'arguments (as recorded)']];
  for (const r of calls) {
    const a = r.attributes;
    const outcome = String(a['tooltrail.outcome']);
    const rule = a['tooltrail.policy.rule'];
    rows.push([
      time(r.startTimeUnixNano),
      runId.slice(0, 8),
      String(a['user.id']),
      String(a['gen_ai.tool.name']),
      outcome === 'denied' && rule ? `denied (${String(rule)})` : outcome,
      String(a['tooltrail.attempts']),
      clip(String(a['gen_ai.tool.call.arguments'] ?? ''), 90),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  return rows.map((row) => row.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n');
}
