import { promises as fsp, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawnCollector } from '../src/collector/spawn.js';
import { readTrail } from '../src/trail/reader.js';
import { requestLines } from '../src/trail/request-lines.js';
import { TrailWriter } from '../src/trail/writer.js';
import type { TrailSpan } from '../src/trail/record.js';

// The acknowledgement means durable, also when requests overlap and share one fsync (group
// commit): a collector killed with SIGKILL right after acknowledging still has every span it
// acknowledged in its files.

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tooltrail-collect-durability-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  vi.restoreAllMocks();
});

function body(first: number, count: number): string {
  const spans = Array.from({ length: count }, (_, i) => ({
    traceId: (first + i + 1).toString(16).padStart(32, '0'),
    spanId: (first + i + 1).toString(16).padStart(16, '0'),
    name: 'execute_tool send_email',
    startTimeUnixNano: '1741064767889000000',
    endTimeUnixNano: '1741064767890000000',
    attributes: [{ key: 'gen_ai.tool.call.arguments', value: { stringValue: 'x'.repeat(400) } }],
  }));
  return JSON.stringify({ resourceSpans: [{ resource: {}, scopeSpans: [{ spans }] }] });
}

function post(url: string, data: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(`${url}/v1/traces`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', () => resolve(0));
    });
    req.once('error', () => resolve(0));
    req.end(data);
  });
}

describe('collect: durability under overlapping requests', () => {
  it('every span acknowledged before a SIGKILL is in the files', async () => {
    const dir = tmp();
    const collector = await spawnCollector({ dir });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const acked = new Set<string>();
    let next = 0;
    let killed = false;
    const PER = 50;
    // Four senders in flight; the collector is killed right after the 40th acknowledgement.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!killed) {
          const first = next;
          next += PER;
          const status = await post(collector.url, body(first, PER), agent);
          if (status !== 200 || killed) break;
          for (let i = 0; i < PER; i++) acked.add((first + i + 1).toString(16).padStart(16, '0'));
          if (acked.size >= 40 * PER && !killed) {
            killed = true;
            process.kill(collector.pid, 'SIGKILL');
          }
        }
      }),
    );
    agent.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const trail = await readTrail(dir);
    const stored = new Set(trail.records.map((r) => r.spanId));
    const missing = [...acked].filter((id) => !stored.has(id));
    expect(acked.size).toBeGreaterThanOrEqual(40 * PER);
    expect(missing).toEqual([]);
  });

  it('appends that queue during an fsync are written together and share the next one', async () => {
    const writer = new TrailWriter({ dir: tmp() });
    await writer.init();
    const span = (i: number): TrailSpan => ({
      resource: {},
      scope: { name: 's' },
      traceId: '1'.repeat(32),
      spanId: i.toString(16).padStart(16, '0'),
      name: 'n',
      kind: 1,
      startTimeUnixNano: '0',
      endTimeUnixNano: '0',
      attributes: {},
      events: [],
      links: [],
      status: { code: 0 },
    });
    await writer.append(requestLines([span(0)], '2025-01-01T00:00:00.000Z', undefined));
    const handle = await fsp.open(path.join(os.tmpdir(), '.'), 'r');
    const sync = vi.spyOn(Object.getPrototypeOf(handle) as { sync(): Promise<void> }, 'sync');
    await handle.close();
    const order: number[] = [];
    // Ten requests arrive together: the first starts a write, the other nine wait for its fsync.
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => writer.append(requestLines([span(i + 1)], '2025-01-01T00:00:00.000Z', undefined)).then(() => order.push(i))),
    );
    expect(sync.mock.calls.length).toBeLessThanOrEqual(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await writer.close();
    const trail = await readTrail(writer.dir);
    expect(trail.records.map((r) => r.spanId)).toEqual(Array.from({ length: 11 }, (_, i) => i.toString(16).padStart(16, '0')));
  });
});
