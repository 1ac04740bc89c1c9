import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createAuditor, setDefaultAuditor } from '@tooltrail/core';
import { afterEach, describe, expect, it } from 'vitest';
import { appOptions, collector, configModule, finished, moduleFile, runCheck, stopCli, verdictOf } from './check-helpers.js';
import { cleanup, tempDir, type CliCollector } from './helpers.js';

afterEach(cleanup);

/** Records calls into the collector the way an app would: one run per (principal, agent) pair. */
async function recordRuns(c: CliCollector, runs: { principal: string; type?: string; agent: string }[]): Promise<void> {
  const auditor = createAuditor({ serviceName: 'check-recent-app', endpoint: c.url, spoolDir: path.join(await tempDir(), 'spool'), logger: { warn() {} } });
  setDefaultAuditor(undefined);
  const lookup = auditor.withAudit(async (id: string) => ({ id, status: 'shipped' }), { name: 'lookup_order' });
  for (const [i, r] of runs.entries()) {
    await auditor.run({ principal: { id: r.principal, ...(r.type ? { type: r.type } : {}) }, agent: { name: r.agent } }, () => lookup(`o-${i}`));
  }
  expect(await auditor.shutdown(10_000)).toBe(true);
}

describe('tooltrail check: the recent-records scan of question 2', () => {
  it('distinct principals per run pass', async () => {
    const c = await collector();
    await recordRuns(c, [
      { principal: 'user:alice', type: 'user', agent: 'support' },
      { principal: 'user:bob', type: 'user', agent: 'support' },
      { principal: 'user:alice', type: 'user', agent: 'billing' },
    ]);
    const { code, json } = await runCheck(['--config', await configModule(appOptions(c, 'check-recent-ok')), '--trail', c.dir]);
    expect(json.failing).toEqual([]);
    expect(code).toBe(0);
    expect(json.recent).toMatchObject({ calls: 3, runs: 3, flags: [] });
    await stopCli(c);
  });

  it('one principal on every run of every agent is flagged', async () => {
    const c = await collector();
    await recordRuns(c, [
      { principal: 'user:ops', agent: 'support' },
      { principal: 'user:ops', agent: 'billing' },
      { principal: 'user:ops', agent: 'support' },
    ]);
    const { code, json } = await runCheck(['--config', await configModule(appOptions(c, 'check-recent-one')), '--trail', c.dir]);
    expect(code).toBe(1);
    expect(json.failing).toEqual(['attributed']);
    expect(json.recent!.flags).toEqual([expect.objectContaining({ kind: 'single-principal', principal: 'user:ops' })]);
    expect(verdictOf(json, 'attributed').summary).toMatch(/all 3 runs of 2 agent\(s\) ran as "user:ops"/);
    await stopCli(c);
  });

  it('a principal shaped like a service account is flagged', async () => {
    const c = await collector();
    await recordRuns(c, [
      { principal: 'user:alice', agent: 'support' },
      { principal: 'system:serviceaccount:agents:support', agent: 'support' },
    ]);
    const { code, json } = await runCheck(['--config', await configModule(appOptions(c, 'check-recent-svc')), '--trail', c.dir]);
    expect(code).toBe(1);
    expect(json.failing).toEqual(['attributed']);
    expect(json.recent!.flags).toEqual([expect.objectContaining({ kind: 'service-account', principal: 'system:serviceaccount:agents:support' })]);
    await stopCli(c);
  });
});

/** Whether the core build the cli loads takes `policyFile` yet (issue 13, part B). */
async function corePolicyFile(file: string): Promise<boolean> {
  try {
    const a = createAuditor({ serviceName: 'probe', exporter: new InMemorySpanExporter(), integrity: false, logger: { warn() {} }, ...({ policyFile: file } as object) });
    setDefaultAuditor(undefined);
    await a.shutdown(1000);
    return true;
  } catch {
    return false;
  }
}

describe('tooltrail check --policy', () => {
  it('builds the auditor from the policy file and the endpoint; a file that denies the canary passes', async (ctx) => {
    const c = await collector();
    const policy = path.join(await tempDir(), 'policy.yaml');
    await writeFile(policy, 'id: support-agent\ndefault: allow\nrules:\n  - id: no-canary\n    tools: ["tooltrail_canary_*"]\n    decide: deny\n    reason: outside the agent scope\n');
    if (!(await corePolicyFile(policy))) ctx.skip();
    const { code, json } = await runCheck(['--policy', policy, '--endpoint', c.url, '--trail', c.dir, '--service', 'check-policy']);
    expect(json.failing).toEqual([]);
    expect(code).toBe(0);
    expect(json.canary[0]!.record).toMatchObject({ outcome: 'denied', rule: 'no-canary' });
    await stopCli(c);
  });
});

describe('tooltrail check: bad command lines exit 2', () => {
  it('prints the reason and the usage', async () => {
    const dir = await tempDir();
    const notAuditor = await moduleFile('export default { hello: "world" };');
    const throwing = await moduleFile('throw new Error("boom at import");', 'throws.mjs');
    const cases: string[][] = [
      [],
      ['--bogus'],
      ['stray', '--config', notAuditor, '--trail', dir],
      ['--config', notAuditor, '--policy', 'p.yaml', '--trail', dir],
      ['--policy', 'p.yaml', '--trail', dir],
      ['--config', notAuditor],
      ['--config', notAuditor, '--trail', dir, '--jaeger', 'http://127.0.0.1:16686'],
      ['--config', notAuditor, '--trail', dir, '--endpoint', 'http://127.0.0.1:4318'],
      ['--config', notAuditor, '--jaeger', 'not a url'],
      ['--policy', 'p.yaml', '--endpoint', 'ftp://x', '--trail', dir],
      ['--config', notAuditor, '--trail', dir, '--timeout', 'soon'],
      ['--config', notAuditor, '--trail', dir, '--timeout', '0s'],
      ['--config', notAuditor, '--trail', dir, '--since', 'yesterday'],
      ['--config', notAuditor, '--trail', dir, '--args', '[1, 2]'],
      ['--config', notAuditor, '--trail', dir, '--args', '{not json'],
      ['--config', notAuditor, '--trail', dir, '--tool', ''],
      ['--config', path.join(dir, 'missing.mjs'), '--trail', dir],
      ['--config', notAuditor, '--trail', dir],
      ['--config', throwing, '--trail', dir],
      ['--policy', path.join(dir, 'missing.yaml'), '--endpoint', 'http://127.0.0.1:4318', '--trail', dir],
    ];
    for (const args of cases) {
      const r = await finished(['check', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('Usage: tooltrail check');
      expect(r.stdout, args.join(' ')).toBe('');
    }
    const notAuditorRun = await finished(['check', '--config', notAuditor, '--trail', dir]);
    expect(notAuditorRun.stderr).toMatch(/the default export must be an Auditor/);
    const throwingRun = await finished(['check', '--config', throwing, '--trail', dir]);
    expect(throwingRun.stderr).toMatch(/the module failed to load: boom at import/);
  });

  it('--help exits 0 and the top-level usage lists check', async () => {
    const r = await finished(['check', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--config', '--policy', '--endpoint', '--trail', '--jaeger', '--timeout', '--since', '--tool', '--args', '--json']) expect(r.stdout).toContain(flag);
    expect((await finished(['--help'])).stdout).toMatch(/\n {2}check {7}/);
  });
});
