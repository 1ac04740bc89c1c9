import { awaitAllCallbacks } from '@langchain/core/callbacks/promises';
import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { currentRun, deny, type PolicyRule } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditLangChainTools } from '../src/index.js';
import { alice, attr, harness, runAgentLoop, ScriptedChatModel } from './helpers.js';

const booked: unknown[] = [];
const searchFlights = tool(async ({ from, to }) => ({ flights: [`${from}-${to} 08:15`, `${from}-${to} 17:40`], user: currentRun()?.principal.id }), {
  name: 'search_flights',
  description: 'Search flights between two airports',
  schema: z.object({ from: z.string().toUpperCase(), to: z.string().toUpperCase() }),
});
const bookFlight = tool(
  async (args) => {
    booked.push(args);
    return `booked ${args.flight} for ${args.passengers}`;
  },
  {
    name: 'book_flight',
    description: 'Book a flight',
    schema: z.object({ flight: z.string(), passengers: z.number().int().min(1).max(4).default(1), budget: z.number() }),
  },
);

const budgetCap: PolicyRule<{ budget: number }> = (call) =>
  call.args.budget > 1000 ? deny(`budget ${call.args.budget} is over the 1000 limit`, { rule: 'travel.budget' }) : undefined;

/** The model's side of the conversation, reacting to the tool results it is shown. */
function travelScript(messages: BaseMessage[], turn: number): AIMessage {
  const last = messages[messages.length - 1];
  switch (turn) {
    case 1:
      // Two parallel calls; the second has invalid arguments.
      return new AIMessage({
        content: '',
        tool_calls: [
          { id: 'call_s1', name: 'search_flights', args: { from: 'osl', to: 'lis' } },
          { id: 'call_b0', name: 'book_flight', args: { flight: 'OSL-LIS 08:15', passengers: 9, budget: 900 } },
        ],
      });
    case 2:
      // The model read the validation error and now overspends.
      if (!(last instanceof ToolMessage) || last.status !== 'error') throw new Error('model expected an error result');
      return new AIMessage({ content: '', tool_calls: [{ id: 'call_b1', name: 'book_flight', args: { flight: 'OSL-LIS 08:15', budget: 2500 } }] });
    case 3:
      // Denied: it reads the reason and stays within budget.
      if (!(last instanceof ToolMessage) || !String(last.content).includes('travel.budget')) throw new Error('model expected the denial');
      return new AIMessage({ content: '', tool_calls: [{ id: 'call_b2', name: 'book_flight', args: { flight: 'OSL-LIS 08:15', budget: 800 } }] });
    default:
      return new AIMessage(`Done: ${String(last?.content)}`);
  }
}

describe('an agent loop with a fake tool-calling chat model', () => {
  it('records every call of the loop under the run, and the model recovers from the invalid and the denied call', async () => {
    const h = harness();
    booked.length = 0;
    const tools = auditLangChainTools([searchFlights, bookFlight], { auditor: h.auditor, tools: { book_flight: { policy: [budgetCap as PolicyRule] } } });
    const model = new ScriptedChatModel(travelScript);
    const toolStarts: string[] = [];
    const callbacks = [{ handleToolStart: (_t: unknown, _input: string, _runId: string, _parent?: string, _tags?: string[], _md?: unknown, name?: string) => void toolStarts.push(String(name)) }];

    const messages = await h.auditor.run({ ...alice, runId: 'run-travel' }, () => runAgentLoop(model, tools, 'Book me OSL to LIS', { callbacks }));
    await awaitAllCallbacks();

    // The model was bound to the audited tools exactly as to the originals.
    expect(model.boundTools.map((t) => t.function.name)).toEqual(['search_flights', 'book_flight']);
    expect(Object.keys((model.boundTools[1]!.function.parameters as { properties: object }).properties)).toEqual(['flight', 'passengers', 'budget']);
    // The conversation: every tool call answered by a ToolMessage with its id; refusals as errors.
    const results = messages.filter((m): m is ToolMessage => m instanceof ToolMessage);
    expect(results.map((m) => [m.tool_call_id, m.status])).toEqual([
      ['call_s1', 'success'],
      ['call_b0', 'error'],
      ['call_b1', 'error'],
      ['call_b2', 'success'],
    ]);
    expect(JSON.parse(String(results[0]!.content))).toEqual({ flights: ['OSL-LIS 08:15', 'OSL-LIS 17:40'], user: 'user:42' });
    expect(messages[messages.length - 1]!.content).toBe('Done: booked OSL-LIS 08:15 for 1');
    expect(booked).toEqual([{ flight: 'OSL-LIS 08:15', passengers: 1, budget: 800 }]);
    // LangChain's callbacks still see every tool run.
    expect(toolStarts.sort()).toEqual(['book_flight', 'book_flight', 'book_flight', 'search_flights']);

    const spans = await h.spans();
    const run = spans.find((s) => s.name === 'invoke_agent travel-bot');
    const calls = spans.filter((s) => s.name.startsWith('execute_tool '));
    expect(calls.map((s) => [attr(s, 'gen_ai.tool.call.id'), attr(s, 'tooltrail.outcome'), attr(s, 'tooltrail.attempts')]).sort()).toEqual([
      ['call_b0', 'invalid', 0],
      ['call_b1', 'denied', 0],
      ['call_b2', 'ok', 1],
      ['call_s1', 'ok', 1],
    ]);
    for (const c of calls) {
      // Identity survived the model calls, the callback machinery and the parallel tool calls.
      expect(c.parentSpanContext?.spanId).toBe(run!.spanContext().spanId);
      expect(attr(c, 'tooltrail.run.id')).toBe('run-travel');
      expect(attr(c, 'user.id')).toBe('user:42');
    }
    const byId = new Map(calls.map((s) => [attr(s, 'gen_ai.tool.call.id'), s]));
    expect(attr(byId.get('call_s1'), 'gen_ai.tool.call.arguments')).toBe('{"from":"OSL","to":"LIS"}');
    expect(attr(byId.get('call_s1'), 'tooltrail.arguments.proposed')).toBe('{"from":"osl","to":"lis"}');
    expect(attr(byId.get('call_b1'), 'tooltrail.policy.reason')).toBe('budget 2500 is over the 1000 limit');
    expect(attr(byId.get('call_b2'), 'gen_ai.tool.call.arguments')).toBe('{"flight":"OSL-LIS 08:15","passengers":1,"budget":800}');
  });
});
