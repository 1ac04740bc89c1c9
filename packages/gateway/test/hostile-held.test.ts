import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { tempDir, writeConfig } from './fixtures/harness.js';
import { hostileServer, INIT, rawStdioGateway, type Message, type RawGateway } from './fixtures/hostile-harness.js';

/**
 * What an agent sends before its initialize is answered is held while the servers connect: at
 * most 64 messages and 4 MiB. The excess is refused with a JSON-RPC error, not kept.
 */

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(() => killAll());

/** A gateway whose server answers initialize 1.5 s late, so everything written at once is held. */
function slowStart(name: string): RawGateway {
  const dir = tempDir(`gw-hostile-held-${name}`);
  const config = writeConfig(dir, {
    audit: { spoolDir: path.join(dir, 'spool'), endpoint: collector.url },
    servers: [hostileServer('bad', { principal: { id: 'svc:held' } }, { HOSTILE_INIT_DELAY_MS: '1500' })],
  });
  return rawStdioGateway(config);
}

async function collect(gw: RawGateway, n: number): Promise<Message[]> {
  const out: Message[] = [];
  while (out.length < n) {
    const m = await gw.next(10_000);
    if (m === undefined) break;
    out.push(m);
  }
  return out;
}

const ping = (id: number, pad = '') => JSON.stringify({ jsonrpc: '2.0', id, method: 'ping', ...(pad ? { params: { pad } } : {}) });
const REFUSED = /^tooltrail gateway: refused: more than 64 messages or 4194304 bytes arrived before initialize was answered/;

describe('messages before initialize completes', () => {
  it('holds 64 messages and refuses the rest with -32000', async () => {
    const gw = slowStart('count');
    gw.write([INIT, ...Array.from({ length: 80 }, (_, i) => ping(i + 1))].join('\n'));
    const got = await collect(gw, 81);
    expect(got).toHaveLength(81);
    const refused = got.filter((m) => m.error !== undefined);
    expect(refused.map((m) => m.id)).toEqual(Array.from({ length: 17 }, (_, i) => i + 64));
    for (const m of refused) {
      expect((m.error as { code: number }).code).toBe(-32000);
      expect((m.error as { message: string }).message).toMatch(REFUSED);
    }
    expect(got.find((m) => m.id === 0)).toMatchObject({ result: { serverInfo: { name: 'hostile' } } });
    expect(got.filter((m) => m.result !== undefined && m.id !== 0).map((m) => m.id)).toEqual(Array.from({ length: 63 }, (_, i) => i + 1));
    expect(gw.stderr()).toMatch(/refused 1 message\(s\) that arrived before initialize was answered/);
    // Held no longer: the connection works as usual.
    gw.write(ping(100));
    expect(await gw.next()).toEqual({ jsonrpc: '2.0', id: 100, result: {} });
    expect(await gw.end()).toBe(0);
  }, 25_000);

  it('refuses what is over 4 MiB in all', async () => {
    const gw = slowStart('bytes');
    const pad = 'x'.repeat(1536 * 1024);
    gw.write([INIT, ping(1, pad), ping(2, pad), ping(3, pad), ping(4)].join('\n'));
    const got = await collect(gw, 5);
    expect(got.filter((m) => m.error !== undefined).map((m) => [m.id, (m.error as { code: number }).code])).toEqual([[3, -32000]]);
    expect(got.filter((m) => m.result !== undefined).map((m) => m.id).sort()).toEqual([0, 1, 2, 4]);
    expect(await gw.end()).toBe(0);
  }, 25_000);
});
