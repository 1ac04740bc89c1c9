import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTrail, spawnCollector } from '@tooltrail/cli';
import { describe, expect, it } from 'vitest';

// What every example shares (issue 10, item 7): an interrupted example leaves no collector
// running; OTEL_EXPORTER_OTLP_ENDPOINT is honoured (no collector of its own, no random port);
// the demo prints the trace id and its Jaeger URL.

const here = path.dirname(new URL(import.meta.url).pathname);
const examples = path.resolve(here, '../..');
const tsx = path.resolve(examples, '../node_modules/.bin/tsx');
const MAIN: Record<string, string> = {
  quickstart: 'quickstart/src/demo.ts',
  'ai-sdk': 'ai-sdk/src/main.ts',
  langchain: 'langchain/src/main.ts',
  mcp: 'mcp/src/main.ts',
  'openai-agents': 'openai-agents/src/main.ts',
};

function baseEnv(cwd: string): NodeJS.ProcessEnv {
  const { OTEL_EXPORTER_OTLP_ENDPOINT: _a, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: _b, XDG_CONFIG_HOME: _x, TOOLTRAIL_DEMO_KEYS: _k, ...rest } = process.env;
  return { ...rest, HOME: mkdtempSync(path.join(tmpdir(), 'tooltrail-ex-home-')), INIT_CWD: cwd };
}

function start(name: string, env: NodeJS.ProcessEnv) {
  const proc = spawn(tsx, [path.join(examples, MAIN[name]!)], { cwd: path.join(examples, name), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => proc.on('close', (code) => r(code)));
  return { proc, out: () => out, err: () => err, exited };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

describe('the examples', () => {
  for (const name of Object.keys(MAIN)) {
    it(`${name}: SIGINT mid-run stops its collector`, async () => {
      const cwd = mkdtempSync(path.join(tmpdir(), 'tooltrail-ex-'));
      // TOOLTRAIL_EXAMPLE_HOLD_MS holds the example after its collector started: the signal lands mid-run.
      const run = start(name, { ...baseEnv(cwd), TOOLTRAIL_EXAMPLE_HOLD_MS: '30000' });
      const pidLine = /collector: tooltrail collect, its own process \(pid (\d+)\)/;
      expect(await until(() => pidLine.test(run.out()), 30_000), run.out() + run.err()).toBe(true);
      const pid = Number(pidLine.exec(run.out())![1]);
      expect(alive(pid)).toBe(true);
      run.proc.kill('SIGINT');
      const code = await run.exited;
      expect(code).toBe(130);
      expect(await until(() => !alive(pid), 5000), `collector ${pid} still running`).toBe(true);
    }, 60_000);
  }

  it('honour OTEL_EXPORTER_OTLP_ENDPOINT: the spans go there, no collector of their own', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tooltrail-ex-otlp-'));
    const collector = await spawnCollector({ dir, port: 0 });
    try {
      for (const name of Object.keys(MAIN)) {
        const cwd = mkdtempSync(path.join(tmpdir(), 'tooltrail-ex-'));
        const run = start(name, { ...baseEnv(cwd), OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, TOOLTRAIL_JAEGER_UI: 'http://jaeger.example:16686/' });
        expect(await run.exited, run.err()).toBe(0);
        expect(run.out()).toContain(`collector: ${collector.url} (from the OTEL_EXPORTER_OTLP_* environment)`);
        expect(run.out()).not.toMatch(/tooltrail collect, its own process/);
        expect(run.out(), name).toMatch(/Spans went to /);
        if (name === 'quickstart') {
          const trace = /\ntrace ([0-9a-f]{32})\n/.exec(run.out())?.[1];
          expect(trace).toBeDefined();
          expect(run.out()).toContain(`in Jaeger: http://jaeger.example:16686/trace/${trace}`);
          expect(run.out()).toMatch(/Check it: npx tooltrail verify --jaeger http:\/\/jaeger\.example:16686 --service support-agent/);
        }
      }
    } finally {
      await collector.stop();
    }
    const services = new Set((await readTrail(dir)).records.map((r) => r.resource['service.name']));
    expect(services).toEqual(new Set(['support-agent', 'shop-assistant', 'travel-agent', 'orders-agent']));
  }, 120_000);
});
