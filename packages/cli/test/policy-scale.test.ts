import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrailSpan } from '../src/trail/record.js';
import { CANDIDATE_YAML } from './policy-fixture.js';
import { existsSync } from 'node:fs';
import { callSpan, writeTrail } from './report-fixture.js';
import { binPath, cleanup, tempDir } from './helpers.js';

afterEach(cleanup);
const run = promisify(execFile);
const here = import.meta.dirname;
const tsx = path.resolve(here, '../../../node_modules/.bin/tsx');

const N = 100_000;
const T0 = Date.UTC(2026, 4, 1);

/** A week of calls: every 10th mail to a masked address, every 7th refund over the limit. */
function* spans(): Generator<TrailSpan> {
  for (let i = 0; i < N; i++) {
    const at = T0 + i * 6_000;
    const who = { agent: `agent-${i % 7}`, principal: `user:${i % 113}`, runId: `run-${Math.floor(i / 20)}`, traceId: (Math.floor(i / 20) + 1).toString(16).padStart(32, '0') };
    switch (i % 4) {
      case 0:
        yield callSpan({ ...who, tool: 'send_email', at, args: JSON.stringify({ to: i % 10 === 0 ? '[email:3f9a1c0d2b7e]' : `u${i}@example.com`, subject: 'status', body: 'all good' }) });
        break;
      case 1:
        yield callSpan({ ...who, tool: 'refund', at, args: JSON.stringify({ amount: i % 7 === 0 ? 500 : 20, card: '****4242' }) });
        break;
      case 2:
        yield callSpan({ ...who, tool: 'read_file', at, args: JSON.stringify({ path: `/srv/data/${i}.txt` }) });
        break;
      default:
        yield callSpan({ ...who, tool: 'list_open_tickets', at, outcome: i % 50 === 3 ? 'denied' : 'ok', ...(i % 50 === 3 ? { rule: 'quota' } : {}) });
    }
  }
}

describe('policy test at scale', () => {
  it('replays 100,000 recorded calls (time and peak RSS printed, no timing assert)', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'candidate.yaml');
    await writeFile(file, CANDIDATE_YAML);
    const trail = path.join(dir, 'trail');
    const w0 = performance.now();
    await writeTrail(trail, spans());
    const writeMs = performance.now() - w0;
    const { stdout } = await run(tsx, [path.join(here, 'policy-scale-run.ts'), file, trail], { timeout: 600_000, maxBuffer: 1 << 20 });
    const r = JSON.parse(stdout) as { ms: number; maxRssKiB: number; summary: Record<string, unknown>; listed: number };
    console.log(`policy test, ${N} records: replay ${(r.ms / 1000).toFixed(2)} s (${((r.ms * 1000) / N).toFixed(1)} µs per call), peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB; trail written in ${(writeMs / 1000).toFixed(1)} s`);
    // Counts are exact: the trail is deterministic.
    const masked = Math.floor((N - 1) / 20) + 1; // i % 20 === 0: send_email with a masked address
    const bigRefunds = Array.from({ length: N }, (_, i) => i).filter((i) => i % 4 === 1 && i % 7 === 0).length;
    expect(r.summary).toMatchObject({ calls: N, undecidable: masked, differs: bigRefunds, invalid: 0 });
    expect(r.listed).toBe(masked + bigRefunds);

    // The command as shipped (once the cli and core's policy module are built): GNU time gives its peak RSS.
    if (!existsSync(binPath) || !existsSync(path.resolve(here, '../../core/dist/policy.js'))) return;
    const gnuTime = existsSync('/usr/bin/time');
    const cmd = [binPath, 'policy', 'test', '--policy', file, '--trail', trail, '--json'];
    const b0 = performance.now();
    const res = await run(gnuTime ? '/usr/bin/time' : process.execPath, gnuTime ? ['-f', 'maxrss-kib %M', process.execPath, ...cmd] : cmd, { timeout: 600_000, maxBuffer: 256 << 20 }).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    const binMs = performance.now() - b0;
    const doc = JSON.parse(res.stdout) as { summary: { calls: number; undecidable: number; differs: number }; exitCode: number };
    expect(doc.exitCode).toBe(1);
    expect(doc.summary).toMatchObject({ calls: N, undecidable: masked, differs: bigRefunds });
    const rss = /maxrss-kib (\d+)/.exec(res.stderr)?.[1];
    console.log(`tooltrail policy test --json, ${N} records: ${(binMs / 1000).toFixed(2)} s${rss ? `, peak RSS ${(Number(rss) / 1024).toFixed(0)} MiB` : ''}`);
  }, 900_000);
});
