import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// The built package.
import { createAuditor, currentCall } from '@tooltrail/core';

// A collector that stores a request and answers 200 only after the client's deadline (or resets
// the socket mid-response): the client must retry (at-least-once) and its counts must stay exact.
describe('hostile: late and torn acknowledgements', () => {
  it('200 after the deadline, sockets closed mid-response: every record arrives, counts add up, flush true', async () => {
    const bodies: string[] = [];
    let n = 0;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        const k = n++;
        if (k % 3 === 0) setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 300);
        else if (k % 3 === 1) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
          res.write('{');
          setTimeout(() => res.socket?.destroy(), 5);
        } else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const auditor = createAuditor({
        serviceName: 'late',
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        spoolDir: mkdtempSync(path.join(os.tmpdir(), 'h11-late-')),
        runSpans: false,
        logger: { warn: () => undefined },
        export: { maxBatch: 8, flushIntervalMs: 1, timeoutMs: 100, initialBackoffMs: 5, maxBackoffMs: 20 },
      });
      const step = auditor.withAudit(async (i: number) => ({ i, id: currentCall()!.callId }), { name: 'step' });
      const ids: string[] = [];
      for (let i = 0; i < 120; i++) {
        ids.push((await auditor.run({ principal: { id: 'user:x' } }, () => step(i))).id);
        const s = auditor.stats();
        expect(s.exported + s.dropped + s.quarantined + s.damaged + s.queueDepth).toBe(s.recorded);
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
      }
      expect(await auditor.flush(20_000)).toBe(true);
      const s = auditor.stats();
      expect(s).toMatchObject({ queueDepth: 0, dropped: 0 });
      expect(s.exported).toBe(s.recorded);
      // The late and torn answers were taken as failures and retried (at-least-once: the collector saw some twice).
      expect(s.failedExports).toBeGreaterThan(0);
      const got = new Set(bodies.flatMap((b) => [...b.matchAll(/"stringValue":"(call_[0-9a-f]+)"/g)].map((m) => m[1]!)));
      for (const id of ids) expect(got.has(id), id).toBe(true);
      expect(await auditor.shutdown(5000)).toBe(true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
