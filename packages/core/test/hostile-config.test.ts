import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditConfigError, createAuditor, type AuditorOptions } from '../src/index.js';

// Configurations that would silently weaken the trail, each of which was accepted before:
// they must be AuditConfigErrors (issue 9, item 7: "a weakening configuration is an error").

function configError(fn: () => unknown): AuditConfigError {
  try {
    const a = fn() as { shutdown?: (ms: number) => Promise<boolean> } | undefined;
    void a?.shutdown?.(10);
  } catch (err) {
    expect(err).toBeInstanceOf(AuditConfigError);
    return err as AuditConfigError;
  }
  throw new Error('expected an AuditConfigError');
}

const quiet = { warn: () => undefined };
const spoolDir = mkdtempSync(path.join(tmpdir(), 'tooltrail-hostile-config-'));
afterAll(() => rmSync(spoolDir, { recursive: true, force: true }));
const otlp = (extra: Record<string, unknown>): AuditorOptions =>
  ({ serviceName: 'hostile-config', endpoint: 'http://127.0.0.1:9', spoolDir, logger: quiet, ...extra }) as AuditorOptions;

describe('weakening configurations are errors', () => {
  it('durability strict with failMode open: a body would run whose intent record could not be made durable', () => {
    const err = configError(() => createAuditor(otlp({ durability: 'strict', failMode: 'open' })));
    expect(err.message).toMatch(/strict.*failMode "open"/);
  });

  it('export times above the largest Node timer (they would fire after 1 ms): timeoutMs, flushIntervalMs, back-off, warnAfterMs, signalFlushMs', () => {
    for (const key of ['timeoutMs', 'flushIntervalMs', 'initialBackoffMs', 'maxBackoffMs', 'warnAfterMs', 'signalFlushMs', 'heartbeatMs']) {
      const err = configError(() => createAuditor(otlp({ export: { [key]: 1e12, ...(key === 'heartbeatMs' ? { ownerStaleMs: 2_000_000_000 } : {}) } })));
      expect(err.issues.join('\n')).toContain(`export.${key}`);
    }
  });

  it('ownerStaleMs below twice heartbeatMs would get a live process\'s spool adopted', () => {
    expect(configError(() => createAuditor(otlp({ export: { heartbeatMs: 10_000, ownerStaleMs: 100 } }))).message).toMatch(/ownerStaleMs/);
    // the default stale period (30 s) against a long heartbeat
    expect(configError(() => createAuditor(otlp({ export: { heartbeatMs: 20_000 } }))).message).toMatch(/ownerStaleMs/);
  });

  it('masking: null is neither options nor false: a config error, not a TypeError', () => {
    configError(() => createAuditor({ serviceName: 'x', exporter: new InMemorySpanExporter(), logger: quiet, masking: null } as never));
  });

  it('an options group built by a class or Object.create is still checked for misspelt keys', () => {
    class ExportOptions {
      timeoutMS = 5;
    }
    const err = configError(() => createAuditor(otlp({ export: new ExportOptions() })));
    expect(err.message).toContain('did you mean `export.timeoutMs`?');
    const proto = Object.assign(Object.create({ inherited: true }) as object, { checkpointEvry: 3 });
    expect(configError(() => createAuditor(otlp({ integrity: proto }))).message).toContain('`integrity.checkpointEvery`');
  });

  it('still accepted: strict with failMode closed, and valid times', async () => {
    const a = createAuditor(otlp({ durability: 'strict', failMode: 'closed', export: { timeoutMs: 2_147_483_647, heartbeatMs: 100, ownerStaleMs: 200 }, integrity: false }));
    await a.shutdown(50);
  });
});
