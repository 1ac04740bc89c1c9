import { tool } from '@langchain/core/tools';
import { AuditConfigError } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditTool, auditTools } from '../src/index.js';
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

describe('auditTool() options: an unknown key is an error naming the nearest valid name', () => {
  it('the options, their retry and masking', () => {
    const h = harness();
    const message = (options: unknown) => configError(() => auditTool(search, options as never)).message;
    // The issue's example: both typos are listed.
    expect(configError(() => auditTool(search, { auditr: h.auditor, onRefusl: 'throw' } as never)).issues).toEqual([
      'unknown option `auditr`; did you mean `auditor`?',
      'unknown option `onRefusl`; valid options here: auditor, policy, retry, type, masking, onDenied, onInvalid, formatRefusal',
    ]);
    expect(message({ onDenid: 'throw' })).toBe('invalid auditTool() options: unknown option `onDenid`; did you mean `onDenied`?');
    expect(message({ formatRefusl: () => 'no' })).toBe('invalid auditTool() options: unknown option `formatRefusl`; did you mean `formatRefusal`?');
    expect(message({ retry: { retryon: () => true } })).toBe('invalid auditTool() options: unknown option `retry.retryon`; did you mean `retry.retryOn`?');
    expect(message({ masking: { maxPayloadByte: 4096 } })).toBe(
      'invalid auditTool() options: unknown option `masking.maxPayloadByte`; did you mean `masking.maxPayloadBytes`?',
    );
    expect(message({ tools: {} })).toBe(
      'invalid auditTool() options: unknown option `tools`; valid options here: auditor, policy, retry, type, masking, onDenied, onInvalid, formatRefusal',
    );
    expect(message('throw')).toBe('auditTool() options must be an object');
    expect(() =>
      auditTool(search, {
        auditor: h.auditor,
        policy: [],
        retry: { attempts: 2 },
        type: 'function',
        masking: { keys: ['q'] },
        onDenied: 'throw',
        onInvalid: 'message',
        formatRefusal: (e) => e.message,
      }),
    ).not.toThrow();
  });
});

describe('auditTools() options', () => {
  it('common options, tools entries naming no tool, and each tool\'s options', () => {
    const h = harness();
    const message = (options: unknown) => configError(() => auditTools([search, book], options as never)).message;
    expect(message({ auditor: h.auditor, polcy: [] })).toBe('invalid auditTools() options: unknown option `polcy`; did you mean `policy`?');
    expect(message({ tools: { search_flight: {} } })).toBe(
      'invalid auditTools() options: unknown option `tools.search_flight`; did you mean `tools.search_flights`?',
    );
    expect(message({ tools: { book_flight: { onInvaild: 'throw' } } })).toBe(
      'invalid auditTools() options: unknown option `tools.book_flight.onInvaild`; did you mean `tools.book_flight.onInvalid`?',
    );
    // One auditor for the list: not per tool.
    expect(message({ tools: { book_flight: { auditor: h.auditor } } })).toBe(
      'invalid auditTools() options: unknown option `tools.book_flight.auditor`; valid options here: policy, retry, type, masking, onDenied, onInvalid, formatRefusal',
    );
    // The tool's own retry wins for that tool: the common one is still checked.
    expect(message({ retry: { atempts: 3 }, tools: { search_flights: { retry: { attempts: 2 } }, book_flight: { retry: { attempts: 2 } } } })).toBe(
      'invalid auditTools() options: unknown option `retry.atempts`; did you mean `retry.attempts`?',
    );
    expect(message({ tools: { book_flight: { masking: { detectors: [{ id: 'pnr', pattern: /P\d+/, strategyy: 'hash' }] } } } })).toBe(
      'invalid auditTools() options: unknown option `tools.book_flight.masking.detectors[0].strategyy`; did you mean `tools.book_flight.masking.detectors[0].strategy`?',
    );
    expect(message({ tools: ['book_flight'] })).toBe(
      'invalid auditTools() options: tools must be an object of per-tool options, by tool name',
    );
    expect(message({ tools: { book_flight: 'throw' } })).toBe('invalid auditTools() options: tools.book_flight must be an object of options');
    expect(() =>
      auditTools([search, book], { auditor: h.auditor, onDenied: 'throw', tools: { book_flight: { onDenied: 'message', retry: { attempts: 2 } } } }),
    ).not.toThrow();
  });
});
