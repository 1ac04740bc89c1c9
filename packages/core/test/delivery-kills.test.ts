import { afterEach, describe, expect, it } from 'vitest';
import { freePort, killAll, startCollector, startFaultProxy, tempDir } from './collector-harness.js';
import { callIdCounts, prng, recordsPerCall, runAgent, waitFor } from './delivery-harness.js';

/**
 * One agent killed with SIGKILL again and again on one spool, at seeded random moments, while
 * the collector is down and then while delivery (of its own and of adopted spools) is under way;
 * then a clean run. Every call the agent saw return arrives at a real `tooltrail collect`,
 * except at most the one open batch per kill in buffered mode and nothing in strict mode
 * (duplicates allowed: at-least-once).
 */

afterEach(() => killAll());

const SEED = Number(process.env.TOOLTRAIL_KILL_SEED ?? 20261201);
const MAX_BATCH = 32;

async function killRepeatedly(durability: 'buffered' | 'strict', kills: number, seed: number) {
  const random = prng(seed);
  const spool = tempDir(`kills-${durability}`);
  const collector = await startCollector();
  const slow = await startFaultProxy(collector.url);
  await slow.set({ count: 0, delayMs: 30 });
  const down = `http://127.0.0.1:${await freePort()}`;
  const runs: string[][] = [];
  for (let k = 0; k < kills; k++) {
    const endpoint = k < 2 ? down : slow.url;
    const agent = runAgent({
      MODE: 'loop',
      PACE_MS: '1',
      DURABILITY: durability,
      ENDPOINT: endpoint,
      SPOOL_DIR: spool,
      RUN_ID: `kill-${k}`,
      // Strict: every third call is a denial, whose record is committed before it returns too.
      ...(durability === 'strict' ? { DENY_EVERY: '3' } : {}),
      EXPORT: JSON.stringify({ maxBatch: MAX_BATCH, flushIntervalMs: 20, maxRequestBytes: 64 * 1024 }),
    });
    await waitFor('the agent to make calls', () => {
      if (agent.proc.exitCode !== null) throw new Error(`agent exited: ${agent.stderr.join('\n')}`);
      return agent.returned().length >= 20;
    });
    await new Promise((r) => setTimeout(r, 150 + Math.floor(random() * 1000)));
    agent.proc.kill('SIGKILL');
    await agent.exited;
    runs.push(agent.returned());
  }
  const last = runAgent({ MODE: 'drain', ENDPOINT: collector.url, SPOOL_DIR: spool });
  await last.exited;
  const drained = last.lines.find((l) => 'drained' in l) as { drained: boolean; stats: { damaged: number } } | undefined;
  return { runs, drained, counts: callIdCounts(collector.dir), perCall: recordsPerCall(collector.dir), stderr: last.stderr };
}

describe('repeated SIGKILLs of one agent on one spool', () => {
  it(`buffered: each kill loses at most its open batch, nothing else (seed ${SEED})`, async () => {
    const { runs, drained, counts, perCall, stderr } = await killRepeatedly('buffered', 6, SEED);
    expect(drained?.drained, stderr.join('\n')).toBe(true);
    let total = 0;
    for (const [k, ids] of runs.entries()) {
      total += ids.length;
      const missing = ids.filter((id) => !counts.has(id));
      // The open batch: at most MAX_BATCH records (perCall of them per call), and the calls that made them are the last ones.
      expect(missing.length * perCall, `run ${k} lost ${missing.length} of ${ids.length} calls`).toBeLessThanOrEqual(MAX_BATCH);
      expect(ids.slice(ids.length - missing.length)).toEqual(missing);
    }
    expect(total).toBeGreaterThan(6 * 20);
  }, 60_000);

  it(`strict: no call that returned is lost, however often the agent is killed (seed ${SEED + 1})`, async () => {
    const { runs, drained, counts, stderr } = await killRepeatedly('strict', 4, SEED + 1);
    expect(drained?.drained, stderr.join('\n')).toBe(true);
    for (const [k, ids] of runs.entries()) expect(ids.filter((id) => !counts.has(id)), `run ${k}`).toEqual([]);
  }, 60_000);
});
