import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';

// Core's two builds, loaded side by side as an app with a dual-package hazard would
// (`npm run build -w @tooltrail/core` first): their classes differ, their brands do not.
const dist = path.resolve(import.meta.dirname, '../dist');
type Core = typeof import('../src/index.js');
const loadEsm = async (): Promise<Core> => (await import(pathToFileURL(path.join(dist, 'index.js')).href)) as Core;
const loadCjs = (): Core => createRequire(import.meta.url)(path.join(dist, 'index.cjs')) as Core;

describe('an auditor from the other build', () => {
  it('is recognised by isAuditor, taken by setDefaultAuditor, and records the default tools', async () => {
    const esm = await loadEsm();
    const cjs = loadCjs();
    expect(esm.createAuditor).not.toBe(cjs.createAuditor);
    for (const [maker, taker] of [
      [esm, cjs],
      [cjs, esm],
    ] as const) {
      const exporter = new InMemorySpanExporter();
      const auditor = maker.createAuditor({ serviceName: 'cross', exporter, integrity: false, logger: { warn() {} }, exportQueue: { flushIntervalMs: 1 } });
      expect(taker.isAuditor(auditor)).toBe(true);
      expect(maker.isAuditor(auditor)).toBe(true);
      taker.setDefaultAuditor(auditor);
      expect(taker.getDefaultAuditor()).toBe(auditor);
      const tool = taker.withAudit(async (n: number) => n + 1, { name: 'inc' });
      expect(await taker.auditRun({ principal: { id: 'u' } }, () => tool(1))).toBe(2);
      const refused = tool.recordRefused({ reason: 'no', kind: 'denied' });
      expect(taker.isRefusal(refused)).toBe(true);
      await auditor.flush(2_000);
      const names = exporter.getFinishedSpans().map((s) => s.name);
      expect(names.filter((n) => n === 'execute_tool inc')).toHaveLength(2);
      taker.setDefaultAuditor(undefined);
      await auditor.shutdown(1_000);
    }
  });

  it('setDefaultAuditor still refuses what is not an auditor', async () => {
    const esm = await loadEsm();
    const cjs = loadCjs();
    for (const core of [esm, cjs]) {
      expect(core.isAuditor({ withAudit() {} })).toBe(false);
      expect(core.isAuditor(null)).toBe(false);
      expect(() => core.setDefaultAuditor({ serviceName: 'fake' } as never)).toThrow(/createAuditor/);
    }
  });
});
