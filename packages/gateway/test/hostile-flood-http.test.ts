import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { executeTool, httpClient, httpGateway, newClient, tempDir, writeConfig, writeTokens, resultText as text } from './fixtures/harness.js';
import { hostileServer, startHostileHttp, type Message } from './fixtures/hostile-harness.js';
import { peakKiB, RawHttpAgent, residentKiB, tally, until } from './fixtures/hostile-http-agent.js';

/**
 * A notification flood through an HTTP gateway: a stdio child and an HTTP server (on its GET
 * stream) each write 100,000 log messages; an agent that reads (the SDK's client) and one that
 * opens its GET stream and does not read it. The gateway's memory stays bounded (it holds the
 * servers back while the agent is behind), every notification arrives, the next call is recorded.
 */

const FLOOD = 100_000;
/**
 * Peak resident memory of the gateway over the whole file. Measured: ~240-255 MiB after these
 * floods (100 MiB of notifications to an agent not reading for 2 s among them, VmRSS flat
 * meanwhile). Before the HTTP agent side held the servers back, VmRSS grew 171 MiB in those 2 s
 * (to a 351 MiB peak) and kept growing: everything was queued for the agent.
 */
const MAX_PEAK_KIB = 300 * 1024;

let collector: Collector;
let gateway: Awaited<ReturnType<typeof httpGateway>>;
let token: string;

beforeAll(async () => {
  collector = await startCollector();
  const dir = tempDir('gw-hostile-flood-http');
  const web = await startHostileHttp();
  const tokens = writeTokens(dir, 'agent');
  token = tokens.token;
  const config = writeConfig(dir, {
    listen: { http: { host: '127.0.0.1', port: 0, tokensFile: tokens.file } },
    audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') },
    servers: [hostileServer('bad', { requestTimeoutMs: 60_000 }), { name: 'web', http: { url: web.url }, requestTimeoutMs: 60_000 }],
  });
  gateway = await httpGateway(config);
});

afterAll(() => killAll());

const meta = (id: string) => ({ 'tooltrail/callId': id });
const logData = (m: Message) => String((m.params as { data: unknown }).data);

describe('a notification flood through an HTTP gateway', () => {
  it('delivers 100,000 log messages of a stdio child and of an HTTP server\'s GET stream to the SDK\'s client', async () => {
    const seen: Message[] = [];
    const client = newClient();
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void seen.push(n as unknown as Message));
    await httpClient(gateway.url, token, client);
    // No time limit is claimed here, only delivery: the SDK client parses each message in this
    // process, ~40 s for the two floods on a loaded 2-core machine, 96 s at worst (seen), and the
    // messages that follow the answer took over 15 s there. A lost message still never arrives.
    const r = await client.callTool({ name: 'bad__flood', arguments: { n: FLOOD }, _meta: meta('http-flood-1') }, undefined, { timeout: 150_000 });
    expect(text(r)).toBe(`flooded ${FLOOD}`);
    // The answer and the notifications come on two streams: the last ones may follow it.
    await until('every log message', () => tally(seen).logs + tally(seen).told >= FLOOD, 60_000);
    expect(tally(seen)).toEqual({ logs: FLOOD, told: 0, notices: [] });
    expect(logData(seen.at(-1)!)).toBe(`log ${FLOOD - 1}`);
    seen.length = 0;
    const g = await client.callTool({ name: 'web__flood_get', arguments: { n: FLOOD }, _meta: meta('http-flood-2') }, undefined, { timeout: 150_000 });
    expect(text(g)).toBe(`flooded ${FLOOD} on GET`);
    await until('every log message of the GET stream', () => tally(seen).logs + tally(seen).told >= FLOOD, 60_000);
    expect(tally(seen)).toEqual({ logs: FLOOD, told: 0, notices: [] });
    await client.close();
    process.stderr.write(`hostile-flood-http: SDK client, gateway VmHWM ${Math.round(peakKiB(gateway.proc.pid!) / 1024)} MiB\n`);
  }, 240_000);

  it('holds the servers back while an agent does not read its GET stream, then delivers everything', async () => {
    const agent = new RawHttpAgent(gateway.url, token);
    await agent.initialize();
    const get = await agent.openGet();
    expect(get.status).toBe(200);
    const before = peakKiB(gateway.proc.pid!);
    // 100,000 messages of ~1 KiB: 100 MiB the agent does not read for 2 s.
    let answered: Message[] | undefined;
    const call = agent
      .post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'bad__flood', arguments: { n: FLOOD, pad: 1000 }, _meta: meta('http-flood-3') } })
      .then((r) => (answered = r.messages));
    await new Promise((r) => setTimeout(r, 1_000));
    const rss1 = residentKiB(gateway.proc.pid!);
    await new Promise((r) => setTimeout(r, 2_000));
    const rss2 = residentKiB(gateway.proc.pid!);
    // The child is blocked on its own write behind the undelivered notifications: no answer, and
    // the gateway does not grow (it took ~25 MiB/s when it queued everything for the agent).
    expect(answered).toBeUndefined();
    const stalled = peakKiB(gateway.proc.pid!);
    process.stderr.write(`hostile-flood-http: agent not reading, gateway VmRSS ${Math.round(rss1 / 1024)} -> ${Math.round(rss2 / 1024)} MiB over 2 s, VmHWM ${Math.round(before / 1024)} -> ${Math.round(stalled / 1024)} MiB\n`);
    expect(rss2 - rss1).toBeLessThan(16 * 1024);
    expect(stalled).toBeLessThan(MAX_PEAK_KIB);
    get.read();
    await call;
    expect(answered!.at(-1)).toMatchObject({ id: 1, result: { content: [{ type: 'text', text: `flooded ${FLOOD}` }] } });
    await until('every log message', () => tally(get.messages).logs + tally(get.messages).told >= FLOOD, 20_000);
    expect(tally(get.messages)).toEqual({ logs: FLOOD, told: 0, notices: [] });
    expect(logData(get.messages.at(-1)!).startsWith(`log ${FLOOD - 1} `)).toBe(true);
    // The next call is answered.
    const next = await agent.post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'bad__ok', arguments: {}, _meta: meta('http-flood-4') } });
    expect(next.messages.at(-1)).toMatchObject({ id: 2, result: { content: [{ type: 'text', text: 'fine' }] } });
    get.abort();
  }, 60_000);

  it('stayed bounded, and recorded every call', async () => {
    const peak = peakKiB(gateway.proc.pid!);
    process.stderr.write(`hostile-flood-http: gateway VmHWM ${Math.round(peak / 1024)} MiB\n`);
    expect(peak).toBeLessThan(MAX_PEAK_KIB);
    expect(await gateway.stop()).toBe(0);
    await collector.kill();
    const calls = executeTool(collector.dir).map((c) => [c.attributes['gen_ai.tool.call.id'], c.attributes['tooltrail.outcome']]);
    expect(calls.sort()).toEqual([
      ['http-flood-1', 'ok'],
      ['http-flood-2', 'ok'],
      ['http-flood-3', 'ok'],
      ['http-flood-4', 'ok'],
    ]);
  }, 20_000);
});
