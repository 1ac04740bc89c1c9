import { createRequire } from 'node:module';
import { AuditConfigError, deny } from '@tooltrail/core';
import { resetDeprecationWarnings } from '@tooltrail/core/adapter';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { describe, expect, it } from 'vitest';
// The built package: what an app installs.
import { auditMcpClient } from '@tooltrail/mcp';
import { alice, harness } from './helpers.js';

const require = createRequire(import.meta.url);

/** The smallest thing auditMcpClient accepts: its server is never reached in these tests. */
function fakeClient(ran: unknown[]): Client {
  return {
    callTool: async (params: unknown) => (ran.push(params), { content: [{ type: 'text', text: 'ok' }] }),
    getServerVersion: () => undefined,
    request: async () => ({}),
  } as unknown as Client;
}

/** How a denied call ends: thrown, or the error result. */
async function deniedOutcome(options: object): Promise<'throw' | 'result'> {
  const h = harness({ policy: [() => deny('closed')] });
  const ran: unknown[] = [];
  const client = auditMcpClient(fakeClient(ran), { auditor: h.auditor, ...options } as never);
  try {
    const r = await h.auditor.run(alice, () => client.callTool({ name: 'wipe', arguments: {} }));
    expect((r as { isError?: boolean }).isError).toBe(true);
    return 'result';
  } catch {
    return 'throw';
  } finally {
    expect(ran).toEqual([]);
  }
}

describe('hostile: auditMcpClient() options (built @tooltrail/mcp)', () => {
  it('the deprecated onDenied alone still behaves as before', async () => {
    expect(await deniedOutcome({ onDenied: 'throw' })).toBe('throw');
    expect(await deniedOutcome({ onDenied: 'result' })).toBe('result');
  });

  it('onDenied and onRefusal set to different values is an error, not one silently winning', () => {
    const h = harness();
    for (const [onDenied, onRefusal] of [['throw', 'result'], ['result', 'throw']]) {
      expect(() => auditMcpClient(fakeClient([]), { auditor: h.auditor, onDenied, onRefusal } as never)).toThrow(AuditConfigError);
    }
    // The same value twice says one thing: accepted.
    expect(() => auditMcpClient(fakeClient([]), { auditor: h.auditor, onDenied: 'throw', onRefusal: 'throw' } as never)).not.toThrow();
  });

  it('the three-argument form with an auditor in its options too, a different one, is an error', () => {
    const a = harness().auditor;
    const b = harness().auditor;
    expect(() => auditMcpClient(fakeClient([]), a, { auditor: b } as never)).toThrow(AuditConfigError);
    expect(() => auditMcpClient(fakeClient([]), a, { auditor: a } as never)).not.toThrow();
  });

  it('an auditor option that is not an auditor is an error where the client is wrapped', () => {
    for (const auditor of [{}, { withAudit: () => undefined }, 'auditor', 1, null]) {
      expect(() => auditMcpClient(fakeClient([]), { auditor } as never), String(auditor)).toThrow(AuditConfigError);
    }
  });

  it("an auditor from core's CJS build is accepted and records the calls", async () => {
    const cjs = require('@tooltrail/core') as typeof import('@tooltrail/core');
    const { InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
    const exporter = new InMemorySpanExporter();
    const auditor = cjs.createAuditor({ serviceName: 'x', exporter, logger: { warn: () => undefined }, exportQueue: { flushIntervalMs: 1 } });
    const client = auditMcpClient(fakeClient([]), { auditor });
    await auditor.run(alice, () => client.callTool({ name: 'wipe', arguments: {} }));
    expect(await auditor.flush(5000)).toBe(true);
    expect(exporter.getFinishedSpans().filter((s) => s.name === 'execute_tool wipe')).toHaveLength(1);
  });

  it('the deprecated forms warn once per process, naming the replacement, through the auditor logger', () => {
    resetDeprecationWarnings();
    const warnings: string[] = [];
    const h = harness({ logger: { warn: (m) => warnings.push(m) } });
    for (let i = 0; i < 3; i++) auditMcpClient(fakeClient([]), h.auditor, { onDenied: 'throw' });
    // The CJS build of the adapter: the same process, no second warning.
    const cjs = require('@tooltrail/mcp') as typeof import('@tooltrail/mcp');
    cjs.auditMcpClient(fakeClient([]), h.auditor, { onDenied: 'throw' });
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).toContain('auditMcpClient(client, { auditor, ...options })');
    expect(warnings.join('\n')).toContain('`onRefusal`');
  });
});
