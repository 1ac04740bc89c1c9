import { AIMessageChunk, ToolMessage } from '@langchain/core/messages';
import { tool, ToolInputParsingException } from '@langchain/core/tools';
import { AuditDeniedError, deny } from '@tooltrail/core';
import { resetDeprecationWarnings } from '@tooltrail/core/adapter';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditLangChainTool, auditTool, auditTools, recordInvalidToolCalls } from '../src/index.js';
import { alice, attr, harness } from './helpers.js';

const weather = () =>
  tool(async ({ city }: { city: string }) => `${city}: sunny`, { name: 'get_weather', description: 'Weather', schema: z.object({ city: z.string() }) });

describe('tool calls LangChain could not parse (AIMessage.invalid_tool_calls)', () => {
  it('are recorded as invalid calls of the audited tool, never executed, and answered with an error ToolMessage', async () => {
    const h = harness();
    const ran: unknown[] = [];
    const t = auditLangChainTool(
      tool(async (args: { city: string }) => (ran.push(args), 'sunny'), { name: 'get_weather', description: 'Weather', schema: z.object({ city: z.string() }) }),
      { auditor: h.auditor },
    );
    // LangChain itself turns unparseable argument text into an invalid tool call.
    const message = new AIMessageChunk({ content: '', tool_call_chunks: [{ name: 'get_weather', args: 'city=Oslo', id: 'c9', index: 0, type: 'tool_call_chunk' }] });
    expect(message.invalid_tool_calls).toHaveLength(1);
    const replies = await h.auditor.run(alice, async () => recordInvalidToolCalls([t], message));
    expect(ran).toEqual([]);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toBeInstanceOf(ToolMessage);
    expect(replies[0]).toMatchObject({ status: 'error', tool_call_id: 'c9', name: 'get_weather' });
    expect(String(replies[0]!.content)).toMatch(/invalid arguments for tool "get_weather"/);
    const [span, ...rest] = await h.toolSpans();
    expect(rest).toEqual([]);
    expect(attr(span!, 'tooltrail.outcome')).toBe('invalid');
    expect(attr(span!, 'tooltrail.attempts')).toBe(0);
    expect(attr(span!, 'gen_ai.tool.call.id')).toBe('c9');
    expect(attr(span!, 'gen_ai.tool.call.arguments')).toBe('"city=Oslo"');
    expect(attr(span!, 'tooltrail.refused.by')).toBe('langchain.tool-call-parser');
    expect(attr(span!, 'user.id')).toBe('user:42');
  });

  it("throws LangChain's parsing error with onRefusal: 'throw', after recording; calls naming other tools are left out", async () => {
    const h = harness();
    const t = auditLangChainTool(weather(), { auditor: h.auditor, onRefusal: 'throw' });
    const other = { invalid_tool_calls: [{ name: 'not_audited', args: '{', id: 'x1', error: 'bad' }] };
    expect(recordInvalidToolCalls([t], other)).toEqual([]);
    const message = { invalid_tool_calls: [{ name: 'get_weather', args: '{', id: 'x2', error: 'Malformed args.' }] };
    await h.auditor.run(alice, async () => {
      expect(() => recordInvalidToolCalls([t], message)).toThrow(ToolInputParsingException);
    });
    expect((await h.toolSpans()).map((s) => attr(s, 'tooltrail.outcome'))).toEqual(['invalid']);
  });
});

describe('deprecated names keep working, with one warning each through the auditor\'s logger', () => {
  it('auditTool, auditTools, onDenied and onInvalid', async () => {
    resetDeprecationWarnings();
    const warnings: string[] = [];
    const h = harness({ logger: { warn: (m) => warnings.push(m) } });
    const policy = [() => deny('closed')];
    const a = auditTool(weather(), { auditor: h.auditor, onDenied: 'throw', policy });
    const [b] = auditTools([weather()], { auditor: h.auditor, onDenied: 'message', onInvalid: 'throw', policy });
    auditTool(weather(), { auditor: h.auditor, onDenied: 'throw' });
    await h.auditor.run(alice, async () => {
      await expect(a.invoke({ type: 'tool_call', id: 'd1', name: 'get_weather', args: { city: 'Oslo' } })).rejects.toBeInstanceOf(AuditDeniedError);
      // `message` is the old spelling of `result`.
      expect(await b!.invoke({ type: 'tool_call', id: 'd2', name: 'get_weather', args: { city: 'Oslo' } })).toMatchObject({ status: 'error' });
      await expect(b!.invoke({ type: 'tool_call', id: 'd3', name: 'get_weather', args: { city: 7 } })).rejects.toBeInstanceOf(ToolInputParsingException);
    });
    expect(warnings.filter((w) => w.includes('deprecated'))).toEqual([
      '@tooltrail/langchain auditTool() is deprecated and will be removed in a later version; use auditLangChainTool() instead',
      '@tooltrail/langchain option `onDenied` is deprecated and will be removed in a later version; use `onRefusal` instead',
      '@tooltrail/langchain auditTools() is deprecated and will be removed in a later version; use auditLangChainTools() instead',
      '@tooltrail/langchain option `onInvalid` is deprecated and will be removed in a later version; use `onRefusal` instead',
    ]);
  });
});
