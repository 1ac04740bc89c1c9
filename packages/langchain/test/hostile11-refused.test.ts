import { tool } from '@langchain/core/tools';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
// The built package: what an app installs.
import { auditLangChainTool, recordInvalidToolCalls } from '@tooltrail/langchain';
import { alice, attr, harness } from './helpers.js';

const SECRETS = ['alice@example.com', '4111 1111 1111 1111', 'AKIAIOSFODNN7EXAMPLE', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijklmno'];
const weather = () => tool(async ({ city }: { city: string }) => `${city}: sunny`, { name: 'get_weather', description: 'Weather', schema: z.object({ city: z.string() }) });

describe('hostile: recordInvalidToolCalls (built @tooltrail/langchain)', () => {
  it('the same message passed twice (the history again on the next turn) records each call once and still answers it', async () => {
    const h = harness();
    const t = auditLangChainTool(weather(), { auditor: h.auditor });
    const message = { invalid_tool_calls: [{ name: 'get_weather', args: '{city', id: 'c1', error: 'Malformed args.' }] };
    await h.auditor.run(alice, async () => {
      expect(recordInvalidToolCalls([t], message)).toHaveLength(1);
      expect(recordInvalidToolCalls([t], message)).toHaveLength(1);
    });
    expect(await h.toolSpans()).toHaveLength(1);
  });

  it('masks planted secrets in the raw arguments and the parser error, attributed to the run', async () => {
    const h = harness({ masking: undefined });
    const t = auditLangChainTool(weather(), { auditor: h.auditor });
    const args = `{"to":"${SECRETS[0]}","card":"${SECRETS[1]}","k":"${SECRETS[2]}","auth":"Bearer ${SECRETS[3]}"`; // not JSON: raw text
    const json = JSON.stringify({ to: SECRETS[0], card: SECRETS[1], k: SECRETS[2], auth: `Bearer ${SECRETS[3]}` });
    const message = { invalid_tool_calls: [{ name: 'get_weather', args, id: 'c2', error: `bad: ${args}` }, { name: 'get_weather', args: json, id: 'c3', error: `schema: ${SECRETS[0]}` }] };
    await h.auditor.run(alice, async () => void recordInvalidToolCalls([t], message));
    const spans = await h.toolSpans();
    expect(spans).toHaveLength(2);
    for (const s of spans) {
      const text = JSON.stringify({ a: s.attributes, e: s.events.map((e) => e.attributes), st: s.status });
      for (const secret of SECRETS) expect(text).not.toContain(secret);
      expect(attr(s, 'user.id')).toBe('user:42');
    }
  });
});
