// Core's ESM build beside an adapter's CJS build, and the reverse: an app can load both (an ESM
// app whose dependency requires tooltrail), and then two copies of every core class exist. The
// adapters must not care which copy made the auditor, the error or the default. Needs the
// built packages (`npm run build`): the CJS side is loaded by Node's own require.
import { createRequire } from 'node:module';
import { tool } from '@langchain/core/tools';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import * as esmCore from '@tooltrail/core';
import * as esmLangChain from '@tooltrail/langchain';
import * as esmMcp from '@tooltrail/mcp';
import * as esmAgents from '@tooltrail/openai-agents';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

const require = createRequire(import.meta.url);
const cjsCore = require('@tooltrail/core') as typeof esmCore;
const cjsLangChain = require('@tooltrail/langchain') as typeof esmLangChain;
const cjsMcp = require('@tooltrail/mcp') as typeof esmMcp;
const cjsAgents = require('@tooltrail/openai-agents') as typeof esmAgents;

const alice = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'travel-bot' } };
const builds = [
  { name: 'core ESM, adapter CJS', core: esmCore, otherCore: cjsCore, adapter: cjsLangChain },
  { name: 'core CJS, adapter ESM', core: cjsCore, otherCore: esmCore, adapter: esmLangChain },
];

function setup(core: typeof esmCore) {
  const exporter = new InMemorySpanExporter();
  const auditor = core.createAuditor({ serviceName: 'cross-build', exporter, logger: { warn: () => undefined }, exportQueue: { flushIntervalMs: 1 }, masking: false });
  const outcomes = async () => {
    expect(await auditor.flush(5_000)).toBe(true);
    return exporter.getFinishedSpans().filter((s) => s.name.startsWith('execute_tool ')).map((s) => s.attributes['tooltrail.outcome']);
  };
  return { auditor, outcomes };
}

const weather = () =>
  tool(async ({ city }: { city: string }) => `${city}: sunny`, { name: 'get_weather', description: 'Weather', schema: z.object({ city: z.string() }) });
const denyMoscow = (c: esmCore.ToolCall) => ((c.args as { city: string }).city === 'Moscow' ? esmCore.deny('travel ban') : undefined);

let shutdowns: Array<() => Promise<boolean>> = [];
afterEach(async () => {
  esmCore.setDefaultAuditor(undefined);
  for (const s of shutdowns) await s();
  shutdowns = [];
});

describe.each(builds)('$name', ({ core, otherCore, adapter }) => {
  it('records calls, and detects refusals made by the other build (as results and thrown)', async () => {
    const { auditor, outcomes } = setup(core);
    shutdowns.push(() => auditor.shutdown());
    const asResult = adapter.auditLangChainTool(weather(), { auditor, policy: [denyMoscow] });
    const thrown = adapter.auditLangChainTool(weather(), { auditor, policy: [denyMoscow], onRefusal: 'throw' });
    await auditor.run(alice, async () => {
      expect(await asResult.invoke({ type: 'tool_call', id: 'c1', name: 'get_weather', args: { city: 'Oslo' } })).toMatchObject({ content: 'Oslo: sunny' });
      const refused = await asResult.invoke({ type: 'tool_call', id: 'c2', name: 'get_weather', args: { city: 'Moscow' } });
      expect(refused).toMatchObject({ status: 'error', tool_call_id: 'c2' });
      const err = await thrown.invoke({ type: 'tool_call', id: 'c3', name: 'get_weather', args: { city: 'Moscow' } }).catch((e: unknown) => e);
      // Either build's brand check recognises it; instanceof of the other build would not.
      expect(err instanceof core.AuditDeniedError).toBe(true);
      expect(err instanceof otherCore.AuditDeniedError).toBe(false);
      expect(otherCore.AuditDeniedError.isInstance(err)).toBe(true);
      expect(esmCore.isRefusal(err) && cjsCore.isRefusal(err)).toBe(true);
    });
    expect(await outcomes()).toEqual(['ok', 'denied', 'denied']);
  });

  it('takes the default auditor set through the other build', async () => {
    const { auditor, outcomes } = setup(core);
    shutdowns.push(() => auditor.shutdown());
    otherCore.setDefaultAuditor(auditor);
    const t = adapter.auditLangChainTool(weather()); // no auditor: the default, looked up at the call
    await auditor.run(alice, () => t.invoke({ type: 'tool_call', id: 'd1', name: 'get_weather', args: { city: 'Oslo' } }));
    expect(await outcomes()).toEqual(['ok']);
  });

  it('mcp and openai-agents accept an auditor from the other build and share their state across builds', async () => {
    const { auditor } = setup(core);
    shutdowns.push(() => auditor.shutdown());
    const mcp = adapter === cjsLangChain ? cjsMcp : esmMcp;
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    // The deprecated form tells an auditor from options by its brand, whichever build made it.
    expect(() => mcp.auditMcpClient(new Client({ name: 'a', version: '1' }), auditor)).not.toThrow();
    expect(() => mcp.auditMcpClient(new Client({ name: 'a', version: '1' }), { auditor })).not.toThrow();
    const agents = adapter === cjsLangChain ? cjsAgents : esmAgents;
    const other = agents === cjsAgents ? esmAgents : cjsAgents;
    const made = agents.auditOpenAIAgentsTool({ name: 'noop', description: 'noop', parameters: z.object({}), execute: async () => 'ok' }, { auditor });
    expect(other.isAuditedTool(made)).toBe(true);
  });
});
