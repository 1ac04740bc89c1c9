import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, killAll, startCollector, startFaultProxy, tempDir } from './collector-harness.js';
import { callIdCounts, expectAllArrived, runAgent, undeliveredSpoolBytes } from './delivery-harness.js';

/**
 * flush() and shutdown() always settle within their deadline and keep the process alive until
 * they do; they say false, with stats() saying why, whenever anything is left behind. Each case
 * is a child process ending with a top-level await, as scripts do: Node exits with code 13
 * when such an await can never settle.
 */

const settleAgent = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures/settle-agent.mjs');
const aiSdkAgent = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures/ai-sdk-burst-agent.mjs');

afterEach(() => killAll());

type Result = { result: boolean; stats: Record<string, unknown> & { left: number; lastError?: string; recorded: number; exported: number }; ms: number };
const results = (lines: Record<string, unknown>[]) => lines.filter((l) => 'result' in l) as unknown as Result[];

describe('flush() and shutdown() settle, and keep the process alive until they do', () => {
  it('after the event loop was blocked past the request deadline, `await shutdown()` still delivers everything', async () => {
    const collector = await startCollector();
    const proxy = await startFaultProxy(collector.url);
    await proxy.set({ hang: true, count: 1 });
    const agent = runAgent(
      { MODE: 'blocked', ENDPOINT: proxy.url, SPOOL_DIR: tempDir('blocked'), EXPORT: JSON.stringify({ timeoutMs: 300 }), BLOCK_MS: '1500' },
      { script: settleAgent },
    );
    const exit = await agent.exited;
    expect(exit, agent.stderr.join('\n')).toEqual({ code: 0, signal: null });
    const [r] = results(agent.lines);
    expect(r?.result).toBe(true);
    expect(r?.stats).toMatchObject({ left: 0, dropped: 0, queueDepth: 0 });
    expect((await proxy.stats()).hung).toBe(1);
    expectAllArrived(collector.dir, agent.returned());
  });

  it('a burst of 60,000 records with the app\'s own OpenTelemetry provider on, a loop that never yields, and an overdue request: shutdown settles true and the collector has every call', async () => {
    const collector = await startCollector();
    const spool = tempDir('burst');
    const agent = runAgent(
      { MODE: 'burst', CALLS: '30000', OTEL_APP: '1', ENDPOINT: collector.url, SPOOL_DIR: spool, EXPORT: JSON.stringify({ timeoutMs: 2000 }), BLOCK_MS: '2500', SHUTDOWN_MS: '40000' },
      { script: settleAgent },
    );
    const exit = await agent.exited;
    expect(exit, agent.stderr.join('\n')).toEqual({ code: 0, signal: null });
    const ids = (agent.lines.find((l) => 'ids' in l) as { ids: string[] }).ids;
    expect(ids).toHaveLength(30_000);
    const [r] = results(agent.lines);
    expect(r?.result).toBe(true);
    expect(r!.stats.recorded).toBeGreaterThanOrEqual(30_001); // the calls (and their attempt records, where the schema has them), the run span
    expect(r?.stats).toMatchObject({ exported: r!.stats.recorded, dropped: 0, left: 0, queueDepth: 0, spoolBytes: 0 });
    const counts = callIdCounts(collector.dir);
    expect(ids.filter((id) => !counts.has(id))).toEqual([]);
    expect(counts.size).toBe(30_000);
    expect(undeliveredSpoolBytes(spool)).toBe(0);
  }, 60_000);

  it('the same burst from a real AI SDK agent (30,000 tool calls) with @ai-sdk/otel telemetry on: shutdown settles true, every call arrives', async () => {
    const collector = await startCollector();
    const spool = tempDir('ai-burst');
    const agent = runAgent(
      { STEPS: '30', PER: '1000', ENDPOINT: collector.url, SPOOL_DIR: spool, EXPORT: JSON.stringify({ timeoutMs: 2000 }), BLOCK_MS: '2500', SHUTDOWN_MS: '40000' },
      { script: aiSdkAgent },
    );
    const exit = await agent.exited;
    expect(exit, agent.stderr.join('\n')).toEqual({ code: 0, signal: null });
    const ids = (agent.lines.find((l) => 'ids' in l) as { ids: string[] }).ids;
    expect(ids).toHaveLength(30_000);
    const [r] = results(agent.lines);
    expect(r?.result).toBe(true);
    expect(r?.stats).toMatchObject({ exported: r!.stats.recorded, dropped: 0, left: 0, queueDepth: 0 });
    const counts = callIdCounts(collector.dir);
    expect(ids.filter((id) => !counts.has(id))).toEqual([]);
    expect(undeliveredSpoolBytes(spool)).toBe(0);
  }, 60_000);

  it('with the collector down, `await flush()` and `await shutdown()` settle false by their deadline and stats() says why', async () => {
    const down = await freePort();
    const agent = runAgent({ MODE: 'down', ENDPOINT: `http://127.0.0.1:${down}`, SPOOL_DIR: tempDir('down'), FLUSH_MS: '1500' }, { script: settleAgent });
    const exit = await agent.exited;
    expect(exit, agent.stderr.join('\n')).toEqual({ code: 0, signal: null });
    const [flushed, closed] = results(agent.lines);
    expect(flushed?.result).toBe(false);
    expect(flushed!.stats.left).toBeGreaterThanOrEqual(5); // 5 calls, nothing delivered
    expect(flushed!.stats.left).toBe(flushed!.stats.recorded);
    expect(flushed!.stats.lastError).toMatch(/unreachable/);
    expect(closed?.result).toBe(false);
    expect(closed!.stats.left).toBe(closed!.stats.recorded);
    expect(closed!.stats).toMatchObject({ exported: 0, dropped: 0 });
    // Each settled by its deadline (1.5 s), not long after.
    expect(closed!.ms).toBeLessThan(10_000);
  });

  it('a custom exporter that never calls back: flush() and shutdown() settle false by their deadline; the loss is counted', async () => {
    const agent = runAgent({ MODE: 'custom', FLUSH_MS: '800' }, { script: settleAgent });
    const exit = await agent.exited;
    expect(exit, agent.stderr.join('\n')).toEqual({ code: 0, signal: null });
    const [flushed, closed] = results(agent.lines);
    expect(flushed?.result).toBe(false);
    expect(flushed!.stats.left).toBeGreaterThan(0);
    expect(closed?.result).toBe(false);
    expect(closed!.stats.dropped).toBe(closed!.stats.recorded);
    expect(closed!.stats.lastError).toMatch(/lost/);
    expect(closed!.ms).toBeLessThan(10_000);
  });
});
