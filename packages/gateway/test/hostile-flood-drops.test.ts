import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, track } from '../../core/test/collector-harness.js';
import { cliBin, tempDir, writeConfig, writeTokens } from './fixtures/harness.js';
import { hostileServer, type Message } from './fixtures/hostile-harness.js';
import { peakKiB, RawHttpAgent, tally, until } from './fixtures/hostile-http-agent.js';

/**
 * What an HTTP gateway cannot deliver is counted, warned about and told: notifications over the
 * 16 MiB queued for an agent that does not read (big ones: 64 undelivered of 512 KiB are more
 * than the bound, so the real bound is hit), and notifications for an agent with no GET stream
 * open, which the SDK's transport drops without a word.
 */

let gw: ChildProcess;
let url: string;
let token: string;
let stderr = '';

beforeAll(async () => {
  const dir = tempDir('gw-hostile-flood-drops');
  const tokens = writeTokens(dir, 'agent');
  token = tokens.token;
  // No audit endpoint: these tests are about what reaches the agent (the gateway is killed at the end).
  const config = writeConfig(dir, {
    listen: { http: { host: '127.0.0.1', port: 0, tokensFile: tokens.file } },
    audit: { spoolDir: path.join(dir, 'spool') },
    servers: [hostileServer('bad', { requestTimeoutMs: 60_000 })],
  });
  gw = track(spawn(process.execPath, [cliBin, 'gateway', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] }));
  gw.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  for await (const line of createInterface({ input: gw.stdout! })) {
    url = /listening on (http:\/\/\S+)/.exec(line)![1]!;
    break;
  }
});

afterAll(() => killAll());

const call = (id: number, name: string, args: Record<string, unknown>): Message => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

describe('notifications an HTTP gateway cannot deliver', () => {
  it('drops those over 16 MiB queued for an agent that does not read, counts them and tells it', async () => {
    const agent = new RawHttpAgent(url, token);
    await agent.initialize();
    const get = await agent.openGet();
    const N = 200;
    const answer = agent.post(call(1, 'flood', { n: N, pad: 512 * 1024 }));
    // The agent reads nothing until the gateway has had to drop: a fixed 2 s was too short on a
    // loaded machine (the server had not written 16 MiB yet, so nothing was over the bound and
    // nothing dropped). A gateway that queues without bound never says so, and fails here.
    await until('the gateway to drop a notification for the agent that does not read', () => /notification\(s\) to the agent dropped/.test(stderr), 20_000);
    get.read();
    expect((await answer).messages.at(-1)).toMatchObject({ id: 1, result: { content: [{ type: 'text', text: `flooded ${N}` }] } });
    await until('every log message or its count', () => tally(get.messages).logs + tally(get.messages).told >= N, 20_000);
    const t = tally(get.messages);
    expect(t.logs + t.told).toBe(N);
    expect(t.told).toBeGreaterThan(0);
    for (const notice of t.notices) expect(notice).toMatch(/^tooltrail gateway: \d+ notifications were dropped: the agent read slower than its servers wrote \(over 16777216 bytes were queued\)$/);
    expect(stderr).toMatch(/tooltrail gateway: 1 notification\(s\) to the agent dropped: over 16777216 bytes were queued for it/);
    const peak = peakKiB(gw.pid!);
    process.stderr.write(`hostile-flood-drops: ${t.told} of ${N} dropped, gateway VmHWM ${Math.round(peak / 1024)} MiB\n`);
    // Measured ~245 MiB (161 of the 200 dropped).
    expect(peak).toBeLessThan(300 * 1024);
    get.abort();
  }, 60_000);

  it('counts and warns about notifications for an agent with no GET stream open, and tells it on the next one', async () => {
    const agent = new RawHttpAgent(url, token);
    await agent.initialize();
    const answer = await agent.post(call(1, 'flood', { n: 1000 }));
    expect(answer.messages.at(-1)).toMatchObject({ id: 1, result: { content: [{ type: 'text', text: 'flooded 1000' }] } });
    // The gateway's stderr is another pipe than the answer's socket: its last lines may be read after the answer.
    await until('the 1000th warning', () => stderr.includes('tooltrail gateway: 1000 notification(s) to the agent not delivered'), 5_000);
    for (const n of [1, 10, 100, 1000]) expect(stderr).toContain(`tooltrail gateway: ${n} notification(s) to the agent not delivered: the agent has no GET stream open (Streamable HTTP drops them) (session ${agent.sessionId})`);
    expect(stderr).not.toContain('tooltrail gateway: 2 notification(s) to the agent not delivered');
    const get = await agent.openGet();
    get.read();
    await agent.post(call(2, 'flood', { n: 1 }));
    await until('the notice', () => tally(get.messages).told > 0, 5_000);
    expect(tally(get.messages)).toEqual({
      logs: 1,
      told: 1000,
      notices: ['tooltrail gateway: 1000 notifications were not delivered: the agent had no GET stream open, or closed it with them queued'],
    });
    const next = await agent.post(call(3, 'ok', {}));
    expect(next.messages.at(-1)).toMatchObject({ id: 3, result: { content: [{ type: 'text', text: 'fine' }] } });
    get.abort();
  }, 20_000);
});
