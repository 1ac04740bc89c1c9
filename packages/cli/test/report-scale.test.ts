import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../src/review/report/model.js';
import type { TrailSpan } from '../src/trail/record.js';
import { callSpan, writeTrail } from './report-fixture.js';
import { binPath } from './helpers.js';

/**
 * `tooltrail report` over 100,000 records written by the cli's TrailWriter: the time and the
 * report process's peak RSS are printed (docs/review.md quotes them), never asserted.
 */
const RECORDS = 100_000;
const DAY = 86_400_000;
const UNTIL = Date.parse('2026-05-08T00:00:00Z');
const tmp: string[] = [];
afterAll(() => Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true }))));

/** Two weeks of calls: 20 agents, 60 tools, 500 principals, runs of 10 calls; ~5% denied, 1% invalid, 3% failed, 2% retried. */
function* spans(): Generator<TrailSpan> {
  for (let i = 0; i < RECORDS; i++) {
    const run = Math.floor(i / 10);
    const agent = `agent-${run % 20}`;
    // Each agent has its usual 10 tools; in the second week one in 500 calls reaches for another.
    const reach = i > RECORDS / 2 && i % 500 === 7;
    const tool = `tool-${reach ? (run % 20) * 3 + 30 : ((run % 20) + (i % 10)) % 30}`;
    const r = i % 100;
    const outcome = r < 5 ? 'denied' : r === 5 ? 'invalid' : r < 9 ? 'error' : 'ok';
    yield callSpan({
      tool,
      at: UNTIL - 14 * DAY + (i / RECORDS) * 14 * DAY,
      outcome,
      agent,
      principal: `user:${run % 500}`,
      runId: `run-${run}`,
      traceId: run.toString(16).padStart(32, '0'),
      ...(outcome === 'denied' ? { rule: `rule-${i % 7}`, reason: 'out of scope', policyId: 'support-agent', policyVersion: 'sha256:0f1e2d' } : {}),
      ...(outcome === 'error' ? { errorType: i % 2 ? 'TimeoutError' : 'RateLimitError' } : {}),
      ...(r >= 90 && r < 92 ? { attempts: 2 } : {}),
      args: `{"query":"[email:${(i % 4096).toString(16).padStart(12, '0')}]","limit":${i % 50}}`,
    });
  }
}

describe('report at scale', () => {
  it(`reports ${RECORDS.toLocaleString('en-US')} records`, { timeout: 600_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tooltrail-report-scale-'));
    tmp.push(dir);
    const trail = path.join(dir, 'trail');
    const w0 = performance.now();
    await writeTrail(trail, spans(), 1000);
    const writeMs = performance.now() - w0;
    let bytes = 0;
    for (const f of await readdir(trail)) bytes += (await stat(path.join(trail, f))).size;

    // The report's own process, its peak RSS read at exit (a preloaded exit hook).
    const hook = 'data:text/javascript,process.on("exit",()=>process.stderr.write("maxrss_kb="+process.resourceUsage().maxRSS+"\\n"))';
    const html = path.join(dir, 'week.html');
    const t0 = performance.now();
    const proc = spawn(process.execPath, ['--import', hook, binPath, 'report', '--trail', trail, '--since', new Date(UNTIL - 7 * DAY).toISOString(), '--until', new Date(UNTIL).toISOString(), '--json', '--html', html], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
    const reportMs = performance.now() - t0;
    expect(code, stderr).toBe(0);
    const data = JSON.parse(stdout) as ReportData;
    const rss = Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1] ?? NaN);

    const inPeriod = RECORDS / 2;
    expect(data.source.records).toBe(RECORDS);
    expect(data.previous.calls).toBe(inPeriod);
    expect(data.totals.calls).toBe(inPeriod);
    expect(data.totals.denied).toBe(inPeriod * 0.05);
    expect(data.totals.invalid).toBe(inPeriod * 0.01);
    expect(data.refused).toHaveLength(inPeriod * 0.06);
    expect(data.firstUse.length).toBeGreaterThan(0);
    expect(data.firstUse.every((f) => Number(f.tool.slice(5)) >= 30)).toBe(true);
    const htmlBytes = (await stat(html)).size;
    console.log(
      `report scale: ${RECORDS.toLocaleString('en-US')} records (${(bytes / 1e6).toFixed(1)} MB of trail files, written in ${(writeMs / 1000).toFixed(1)} s); ` +
        `tooltrail report --json --html over 7 of 14 days: ${(reportMs / 1000).toFixed(2)} s wall, peak RSS ${(rss / 1024).toFixed(0)} MiB; ` +
        `${data.refused.length} refused calls listed, ${data.firstUse.length} first uses, HTML ${(htmlBytes / 1e6).toFixed(1)} MB`,
    );
  });
});
