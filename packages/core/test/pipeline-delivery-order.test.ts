import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditor, currentCall } from '../src/index.js';
import { tempDir } from './collector-harness.js';
import { undeliveredSpoolBytes } from './delivery-harness.js';

/**
 * Several requests in flight (export.maxConcurrentRequests, default 3), answered in any order:
 * a spooled batch is acknowledged (and its segment deleted) only once it and every batch before
 * it were acknowledged; flush()/stats() stay exact: recorded = exported + dropped + queueDepth.
 */

type Held = { res: http.ServerResponse; body: string };

/** An OTLP/HTTP receiver in this process; `answer` decides what each request gets, and when. */
async function receiver(answer: (held: Held, all: Held[]) => void) {
  const bodies: string[] = [];
  const pending: Held[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on('finish', () => inFlight--);
      const held = { res, body: Buffer.concat(chunks).toString('utf8') };
      pending.push(held);
      answer(held, pending);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const ok = (h: Held) => {
    bodies.push(h.body);
    h.res.setHeader('content-type', 'application/json');
    h.res.end('{}');
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    ok,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function auditorAt(url: string, spoolDir = tempDir('order-spool')) {
  const auditor = createAuditor({
    serviceName: 'order-test',
    endpoint: url,
    spoolDir,
    runSpans: false,
    logger: { warn: () => undefined },
    // Small batches and small requests: several are in flight at once.
    export: { maxBatch: 8, flushIntervalMs: 1, maxRequestBytes: 1024 * 1024, initialBackoffMs: 5, maxBackoffMs: 20 },
  });
  const step = auditor.withAudit(async (n: number) => ({ n, callId: currentCall()!.callId }), { name: 'step' });
  const tool = (n: number) => auditor.run({ principal: { id: 'user:order' } }, () => step(n));
  return { auditor, tool, spoolDir };
}

function spanIds(bodies: readonly string[]): string[] {
  return bodies.flatMap((b) => [...b.matchAll(/"spanId":"([0-9a-f]{16})"/g)].map((m) => m[1]!));
}

function callIds(bodies: readonly string[]): string[] {
  return bodies.flatMap((b) => [...b.matchAll(/"gen_ai\.tool\.call\.id","value":\{"stringValue":"([^"]+)"/g)].map((m) => m[1]!));
}

async function callsAtPace(tool: (n: number) => Promise<{ callId: string }>, n: number, exact: () => void): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push((await tool(i)).callId);
    exact();
    if (i % 5 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  return ids;
}

describe('requests in flight together, acknowledged out of order', () => {
  it('a receiver that answers the latest request first: all arrive once, flush is true, the counts add up at every step', async () => {
    const rx = await receiver((_h, pending) => {
      // Hold requests until three are waiting (or 20 ms pass), then answer newest first.
      const flushAll = () => {
        while (pending.length > 0) rx.ok(pending.pop()!);
      };
      if (pending.length >= 3) flushAll();
      else setTimeout(flushAll, 20);
    });
    servers.push(rx);
    const { auditor, tool, spoolDir } = auditorAt(rx.url);
    const exact = () => {
      const s = auditor.stats();
      expect(s.exported + s.dropped + s.quarantined + s.damaged + s.queueDepth).toBe(s.recorded);
    };
    const ids = await callsAtPace(tool, 400, exact);
    expect(await auditor.flush(10_000)).toBe(true);
    exact();
    const s = auditor.stats();
    expect(s).toMatchObject({ queueDepth: 0, spoolBytes: 0, dropped: 0 });
    expect(s.exported).toBe(s.recorded);
    expect(rx.maxInFlight).toBe(3);
    const spans = spanIds(rx.bodies);
    expect(new Set(spans).size).toBe(spans.length); // nothing sent twice
    expect(spans.length).toBe(s.recorded);
    expect([...new Set(callIds(rx.bodies))].sort()).toEqual([...ids].sort());
    expect(await auditor.shutdown(2_000)).toBe(true);
    expect(undeliveredSpoolBytes(spoolDir)).toBe(0);
  }, 30_000);

  it('a batch stays spooled while it alone is unanswered, though later ones were acknowledged; the next start delivers it', async () => {
    // The first requests are answered at once (the collector keeps up: the window opens to 3),
    // then one is never answered.
    let first: Held | undefined;
    let n = 0;
    const rx = await receiver((h) => {
      if (++n === 6) first = h;
      else rx.ok(h);
    });
    servers.push(rx);
    const { auditor, tool, spoolDir } = auditorAt(rx.url);
    const ids = await callsAtPace(tool, 100, () => undefined);
    expect(await auditor.flush(500)).toBe(false);
    const s = auditor.stats();
    expect(first).toBeDefined();
    const held = callIds([first!.body]);
    expect(held.length).toBeGreaterThan(0);
    expect(s.exported).toBeGreaterThan(s.recorded / 2); // the batches around it were acknowledged
    expect(s.queueDepth).toBe(s.recorded - s.exported);
    expect(await auditor.shutdown(200)).toBe(false);
    expect(undeliveredSpoolBytes(spoolDir)).toBeGreaterThan(0); // the unanswered batch is still on disk

    const rx2 = await receiver((h) => rx2.ok(h));
    servers.push(rx2);
    const next = auditorAt(rx2.url, spoolDir);
    expect(await next.auditor.shutdown(10_000)).toBe(true);
    const delivered = new Set([...callIds(rx.bodies), ...callIds(rx2.bodies)]);
    expect(ids.filter((id) => !delivered.has(id))).toEqual([]);
    for (const id of held) expect(callIds(rx2.bodies)).toContain(id);
    expect(undeliveredSpoolBytes(spoolDir)).toBe(0);
  }, 30_000);

  it('a receiver that fails every other request: everything arrives once, failures are counted, the counts add up', async () => {
    let n = 0;
    const rx = await receiver((h) => {
      if (n++ % 2 === 0) {
        h.res.statusCode = 503;
        h.res.end('{"message":"busy"}');
      } else rx.ok(h);
    });
    servers.push(rx);
    const { auditor, tool } = auditorAt(rx.url);
    const exact = () => {
      const s = auditor.stats();
      expect(s.exported + s.dropped + s.quarantined + s.damaged + s.queueDepth).toBe(s.recorded);
    };
    const ids = await callsAtPace(tool, 300, exact);
    expect(await auditor.flush(15_000)).toBe(true);
    const s = auditor.stats();
    expect(s.exported).toBe(s.recorded);
    expect(s.failedExports).toBeGreaterThanOrEqual(5);
    const spans = spanIds(rx.bodies);
    expect(new Set(spans).size).toBe(spans.length);
    expect(spans.length).toBe(s.recorded);
    expect([...new Set(callIds(rx.bodies))].sort()).toEqual([...ids].sort());
    expect(await auditor.shutdown(2_000)).toBe(true);
  }, 30_000);
});
