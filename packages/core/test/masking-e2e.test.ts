import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditor, setDefaultAuditor } from '../src/index.js';
import { freePort, killAll, readRecords, startCollector, tempDir } from './collector-harness.js';
import { allNeedles, BY_KEY, DETECTED, type Planted } from './fixtures/secrets-corpus.js';

// Issue 12's end-to-end test: every corpus value, planted in every place a record can carry call
// data, is absent from the bytes that reach a real collector process, from the spool files and
// from the collector's files; the correlation attributes arrive unchanged. The auditor runs the
// TypeScript sources; the collector is the built CLI (packages/cli/dist).

/**
 * Encoded forms whose masking has not landed yet: each is skipped by name, never silently. Empty
 * since normalisation (bdca4e8) landed; a form a later change cannot mask yet goes here, visibly.
 */
export const FORMS_PENDING: readonly Form[] = [];
type Form = 'plain' | 'url-encoded' | 'full-width' | 'zero-width';

const FULL_WIDTH = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
/** A zero-width space after every other character: inside every word a detector or rule looks at. */
const ZERO_WIDTH = (s: string) => s.replace(/(..)/g, '$1\u200b');
const ENCODE: Record<Form, (s: string) => string> = {
  plain: (s) => s,
  'url-encoded': (s) => encodeURIComponent(s),
  'full-width': FULL_WIDTH,
  'zero-width': ZERO_WIDTH,
};

afterAll(() => {
  killAll();
  setDefaultAuditor(undefined);
});

function nest(value: unknown, depth: number): unknown {
  let v = value;
  for (let i = 0; i < depth; i++) v = { [`level${i}`]: v };
  return v;
}

/** A value in the text it must sit in to be detected. */
const inContext = (p: Planted, v: string) => (p.context === undefined ? v : p.context.replace('{}', v));

/** Every file under `dir`, as text. */
function filesText(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    out += statSync(p).isDirectory() ? filesText(p) : `${readFileSync(p, 'latin1')}\n${readFileSync(p, 'utf8')}\n`;
  }
  return out;
}

/** A needle as a record can hold it: as is, JSON-escaped once (a string) or twice (JSON in a string). */
function forms(needle: string): string[] {
  const once1 = JSON.stringify(needle).slice(1, -1);
  const twice = JSON.stringify(once1).slice(1, -1);
  return [...new Set([needle, once1, twice])];
}

/** Undoes what a reader could undo: JSON \u escapes, percent-encoding, full-width forms, invisible characters. */
function unfold(text: string): string {
  return text
    .replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/(?:%[0-9A-Fa-f]{2})+/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    })
    .normalize('NFKC')
    .replace(/[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g, '');
}

/** A capture proxy in front of the collector: the exact request bodies that reached it. */
async function captureProxy(port: number, upstream: string): Promise<{ bodies: Buffer[]; close(): Promise<void> }> {
  const bodies: Buffer[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      bodies.push(body);
      fetch(`${upstream}${req.url ?? '/'}`, { method: req.method, headers: { 'content-type': String(req.headers['content-type'] ?? '') }, body })
        .then(async (r) => {
          res.statusCode = r.status;
          res.end(Buffer.from(await r.arrayBuffer()));
        })
        .catch(() => {
          res.statusCode = 502;
          res.end();
        });
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { bodies, close: () => new Promise((r) => server.close(() => r())) };
}

interface Outcome {
  wire: string;
  spool: string;
  collectorFiles: string;
  records: ReturnType<typeof readRecords>;
}

const hashKey = 'e2e-test-hmac-key-0123456789abcdef';
const PLAIN_IDS = { callId: 'call-e2e-plain-1', runId: 'run-e2e-plain', session: 'sess-e2e-0001', request: 'req-e2e-42' };

/** Plants every corpus value (in form `form`) everywhere, spools, then delivers through the proxy. */
async function plantEverywhere(form: Form): Promise<Outcome> {
  const collector = await startCollector();
  const port = await freePort();
  const spoolDir = tempDir('e2e-spool');
  const auditor = createAuditor({
    serviceName: 'masking-e2e',
    endpoint: `http://127.0.0.1:${port}`,
    protocol: 'http/json',
    compression: 'none',
    spoolDir,
    logger: { warn() {} },
    export: { initialBackoffMs: 50, maxBackoffMs: 200, timeoutMs: 2000 },
    masking: { hashKey },
  });
  const enc = ENCODE[form];
  const echo = auditor.withAudit(async (a: unknown) => ({ echoed: a, summary: `done for ${JSON.stringify(a)}` }), { name: 'echo' });
  const thrower = auditor.withAudit(
    async (v: string) => {
      const root = new Error(`root cause: ${v}`);
      const agg = new AggregateError([new TypeError(`member saw ${v}`), `plain ${v}`], `two lookups failed for ${v}`, { cause: root });
      throw new Error(`upstream rejected ${v}`, { cause: agg });
    },
    { name: 'thrower' },
  );
  let n = 0;
  const plantOne = async (t: string, keyed: Record<string, unknown>, attrs: Record<string, string | number>) => {
    n++;
    await auditor.run(
      { principal: { id: t, type: 'user' }, conversationId: t, runId: `run-${n} ${t}`, attributes: { [t]: 'key', note: t, ...attrs } },
      async () => {
        const args = { note: t, deep: nest(t, 10), list: [t, [t, { inner: [t] }]], prose: `Please use ${t} for this, thanks.`, [t]: 'as a key', ...keyed };
        await echo.invokeWith({ callId: `call-${n} ${t}`, attributes: { 'server.address': t, [`attr ${t}`]: 1, 'mcp.session.id': `sess ${t}`, ...attrs } }, args);
        await thrower.invokeWith({ callId: `throw-${n}` }, t).catch(() => undefined);
        echo.recordRefused({ args, callId: `refused-${n}`, reason: `refused: ${t}`, kind: 'denied', by: t, attributes: { 'server.address': t } });
      },
    );
  };
  for (const p of DETECTED) await plantOne(inContext(p, enc(p.value)), {}, {});
  for (const k of BY_KEY) {
    const key = enc(k.key);
    const value = enc(k.value);
    await plantOne(
      `${key}=${value}`,
      { [key]: value, [`${key}=${value}`]: 1, [`${key}: ${value}`]: 2, list: [{ [key]: value }], prose: `set ${key}=${value} now` },
      { [key]: value, [`x.${key}`]: value },
    );
  }
  // The correlation attributes of an ordinary call, which must arrive exactly as given.
  await auditor.run({ principal: { id: 'user:plain' }, runId: PLAIN_IDS.runId, agent: { name: 'e2e-agent', id: 'agent-7' } }, () =>
    echo.invokeWith(
      { callId: PLAIN_IDS.callId, attributes: { 'mcp.session.id': PLAIN_IDS.session, 'jsonrpc.request.id': PLAIN_IDS.request, 'mcp.method.name': 'tools/call' } },
      { q: 'nothing secret here' },
    ),
  );
  // Nothing listens yet: the batches are sealed into the spool, where they are read.
  await auditor.flush(500);
  const spool = filesText(spoolDir);
  const proxy = await captureProxy(port, collector.url);
  expect(await auditor.shutdown(30_000)).toBe(true);
  await proxy.close();
  await collector.kill();
  return { wire: proxy.bodies.map((b) => b.toString('utf8')).join('\n'), spool, collectorFiles: filesText(collector.dir), records: readRecords(collector.dir) };
}

function leaks(haystack: string, needles: readonly string[]): string[] {
  return needles.filter((n) => forms(n).some((f) => haystack.includes(f)));
}

describe('no corpus value reaches the collector, the spool or the collector\'s files', () => {
  it('plain values in arguments, keys, key=value keys, prose, results, causes, AggregateErrors, identity and adapter attributes', async () => {
    const out = await plantEverywhere('plain');
    // The records really went through the spool and the wire: one execute_tool per planted call.
    expect(out.spool).toContain('gen_ai.tool.call.arguments');
    const calls = (DETECTED.length + BY_KEY.length) * 3 + 1;
    expect(out.records.filter((r) => r.name.startsWith('execute_tool ')).length).toBe(calls);
    expect(out.wire).toContain('[REDACTED:password]');
    const needles = allNeedles();
    expect(leaks(out.wire, needles)).toEqual([]);
    expect(leaks(out.spool, needles)).toEqual([]);
    expect(leaks(out.collectorFiles, needles)).toEqual([]);
    // Causes were recorded (masked), not dropped.
    expect(out.wire).toContain('tooltrail.exception.causes');
    // Correlation attributes arrive unchanged.
    const plain = out.records.find((r) => r.attributes['gen_ai.tool.call.id'] === PLAIN_IDS.callId);
    expect(plain?.attributes).toMatchObject({
      'tooltrail.run.id': PLAIN_IDS.runId,
      'gen_ai.tool.name': 'echo',
      'gen_ai.agent.name': 'e2e-agent',
      'gen_ai.agent.id': 'agent-7',
      'mcp.session.id': PLAIN_IDS.session,
      'jsonrpc.request.id': PLAIN_IDS.request,
      'mcp.method.name': 'tools/call',
    });
    expect(String(plain?.attributes['tooltrail.stream.id'])).toMatch(/^[0-9a-f-]{36}$/);
  }, 120_000);

  for (const form of ['url-encoded', 'full-width', 'zero-width'] as const) {
    it.skipIf(FORMS_PENDING.includes(form))(`${form} values, everywhere the plain ones were planted`, async () => {
      const out = await plantEverywhere(form);
      // Both the encoded needles and what a reader gets by decoding the bytes must be absent.
      const needles = [...new Set(allNeedles().flatMap((n) => [n, ENCODE[form](n)]))];
      for (const [where, text] of [['wire', out.wire], ['spool', out.spool], ['collector files', out.collectorFiles]] as const) {
        expect({ where, leaked: leaks(text, needles) }).toEqual({ where, leaked: [] });
        expect({ where, leaked: leaks(unfold(text), allNeedles()) }).toEqual({ where, leaked: [] });
      }
    }, 120_000);
  }
});
