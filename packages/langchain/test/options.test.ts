import { tool } from '@langchain/core/tools';
import { AuditConfigError } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditLangChainTool, auditLangChainTools } from '../src/index.js';
import { harness } from './helpers.js';

/** The AuditConfigError `fn` throws (synchronously). */
function configError(fn: () => unknown): AuditConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuditConfigError);
    return err as AuditConfigError;
  }
  throw new Error('expected an AuditConfigError');
}

const search = tool(async ({ q }: { q: string }) => q, { name: 'search_flights', description: 'Search flights', schema: z.object({ q: z.string() }) });
const book = tool(async ({ id }: { id: string }) => id, { name: 'book_flight', description: 'Book a flight', schema: z.object({ id: z.string() }) });

describe('auditLangChainTool() options: an unknown key is an error naming the nearest valid name', () => {
  it('the options, their retry and masking', () => {
    const h = harness();
    const message = (options: unknown) => configError(() => auditLangChainTool(search, options as never)).message;
    // The issue's example: both typos are listed.
    expect(configError(() => auditLangChainTool(search, { auditr: h.auditor, onRefusl: 'throw' } as never)).issues).toEqual([
      'unknown option `auditr`; did you mean `auditor`?',
      'unknown option `onRefusl`; did you mean `onRefusal`?',
    ]);
    expect(message({ onDenid: 'throw' })).toBe('invalid auditLangChainTool() options: unknown option `onDenid`; did you mean `onDenied`?');
    expect(message({ formatRefusl: () => 'no' })).toBe('invalid auditLangChainTool() options: unknown option `formatRefusl`; did you mean `formatRefusal`?');
    expect(message({ retry: { retryon: () => true } })).toBe('invalid auditLangChainTool() options: unknown option `retry.retryon`; did you mean `retry.retryOn`?');
    expect(message({ masking: { maxPayloadByte: 4096 } })).toBe(
      'invalid auditLangChainTool() options: unknown option `masking.maxPayloadByte`; did you mean `masking.maxPayloadBytes`?',
    );
    expect(message({ tools: {} })).toBe(
      'invalid auditLangChainTool() options: unknown option `tools`; valid options here: auditor, policy, retry, type, masking, onRefusal, formatRefusal, onDenied, onInvalid',
    );
    expect(message('throw')).toBe('auditLangChainTool() options must be an object');
    expect(() =>
      auditLangChainTool(search, {
        auditor: h.auditor,
        policy: [],
        retry: { attempts: 2 },
        type: 'function',
        masking: { keys: ['q'] },
        onRefusal: 'throw',
        formatRefusal: (e) => e.message,
      }),
    ).not.toThrow();
  });
});

describe('auditLangChainTools() options', () => {
  it('common options, tools entries naming no tool, and each tool\'s options', () => {
    const h = harness();
    const message = (options: unknown) => configError(() => auditLangChainTools([search, book], options as never)).message;
    expect(message({ auditor: h.auditor, polcy: [] })).toBe('invalid auditLangChainTools() options: unknown option `polcy`; did you mean `policy`?');
    expect(message({ tools: { search_flight: {} } })).toBe(
      'invalid auditLangChainTools() options: unknown option `tools.search_flight`; did you mean `tools.search_flights`?',
    );
    expect(message({ tools: { book_flight: { onInvaild: 'throw' } } })).toBe(
      'invalid auditLangChainTools() options: unknown option `tools.book_flight.onInvaild`; did you mean `tools.book_flight.onInvalid`?',
    );
    // One auditor for the list: not per tool.
    expect(message({ tools: { book_flight: { auditor: h.auditor } } })).toBe(
      'invalid auditLangChainTools() options: unknown option `tools.book_flight.auditor`; valid options here: policy, retry, type, masking, onRefusal, formatRefusal, onDenied, onInvalid',
    );
    // The tool's own retry wins for that tool: the common one is still checked.
    expect(message({ retry: { atempts: 3 }, tools: { search_flights: { retry: { attempts: 2 } }, book_flight: { retry: { attempts: 2 } } } })).toBe(
      'invalid auditLangChainTools() options: unknown option `retry.atempts`; did you mean `retry.attempts`?',
    );
    expect(message({ tools: { book_flight: { masking: { detectors: [{ id: 'pnr', pattern: /P\d+/, strategyy: 'hash' }] } } } })).toBe(
      'invalid auditLangChainTools() options: unknown option `tools.book_flight.masking.detectors[0].strategyy`; did you mean `tools.book_flight.masking.detectors[0].strategy`?',
    );
    expect(message({ tools: ['book_flight'] })).toBe(
      'invalid auditLangChainTools() options: tools must be an object of per-tool options, by tool name',
    );
    expect(message({ tools: { book_flight: 'throw' } })).toBe('invalid auditLangChainTools() options: tools.book_flight must be an object of options');
    expect(() =>
      auditLangChainTools([search, book], { auditor: h.auditor, onRefusal: 'throw', tools: { book_flight: { onRefusal: 'result', retry: { attempts: 2 } } } }),
    ).not.toThrow();
  });
});
