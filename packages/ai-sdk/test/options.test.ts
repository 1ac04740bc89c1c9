import { tool } from 'ai';
import { AuditConfigError } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditAiSdkTools } from '../src/index.js';
import { harness } from './helpers.js';
import { shopTools } from './shop-tools.js';

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

describe('auditAiSdkTools() options: an unknown key is an error naming the nearest valid name', () => {
  it('common options, each tool, their retry and masking, and tools entries naming no tool', () => {
    const h = harness();
    const tools = shopTools([]);
    const message = (options: unknown) => configError(() => auditAiSdkTools(tools, options as never)).message;
    expect(message({ auditr: h.auditor })).toBe('invalid auditAiSdkTools() options: unknown option `auditr`; did you mean `auditor`?');
    expect(message({ validaton: 'sdk' })).toBe('invalid auditAiSdkTools() options: unknown option `validaton`; did you mean `validation`?');
    expect(message({ retry: { atempts: 2 } })).toBe('invalid auditAiSdkTools() options: unknown option `retry.atempts`; did you mean `retry.attempts`?');
    expect(message({ masking: { allowKey: ['sku'] } })).toBe(
      'invalid auditAiSdkTools() options: unknown option `masking.allowKey`; did you mean `masking.allowKeys`?',
    );
    expect(message({ tools: { place_ordr: {} } })).toBe('invalid auditAiSdkTools() options: unknown option `tools.place_ordr`; did you mean `tools.place_order`?');
    expect(message({ tools: { place_order: { nmae: 'x' } } })).toBe(
      'invalid auditAiSdkTools() options: unknown option `tools.place_order.nmae`; valid options here: description, type, policy, retry, masking',
    );
    expect(message({ tools: { place_order: { descripton: 'x' } } })).toBe(
      'invalid auditAiSdkTools() options: unknown option `tools.place_order.descripton`; did you mean `tools.place_order.description`?',
    );
    // The per-tool retry wins over the common one for that tool: both are still checked.
    expect(message({ retry: { backoff: 5 }, tools: { place_order: { retry: { attempts: 2 } } } })).toBe(
      'invalid auditAiSdkTools() options: unknown option `retry.backoff`; did you mean `retry.backoffMs`?',
    );
    expect(message({ tools: { place_order: { masking: { detectors: [{ id: 'sku', pattern: /X/, stratgy: 'hash' }] } } } })).toBe(
      'invalid auditAiSdkTools() options: unknown option `tools.place_order.masking.detectors[0].stratgy`; did you mean `tools.place_order.masking.detectors[0].strategy`?',
    );
    // Every problem is listed at once.
    expect(configError(() => auditAiSdkTools(tools, { polcy: [], tools: { place_order: { tpye: 'function' } } } as never)).issues).toEqual([
      'unknown option `polcy`; did you mean `policy`?',
      'unknown option `tools.place_order.tpye`; did you mean `tools.place_order.type`?',
    ]);
    expect(message('sdk')).toBe('auditAiSdkTools() options must be an object');
    expect(message({ tools: 'place_order' })).toBe('invalid auditAiSdkTools() options: tools must be an object of per-tool options, by tool key');
    expect(message({ tools: { place_order: true } })).toBe('invalid auditAiSdkTools() options: tools.place_order must be an object of options');
  });

  it('valid options are accepted, a tool without execute can still be named', () => {
    const h = harness();
    const ask = tool({ description: 'Ask the user', inputSchema: z.object({ q: z.string() }) });
    expect(() =>
      auditAiSdkTools(
        { ...shopTools([]), ask },
        {
          auditor: h.auditor,
          validation: 'sdk',
          policy: [],
          retry: { attempts: 2, backoffMs: 1, maxBackoffMs: 2, retryOn: () => true },
          masking: { keys: ['sku'], result: 'digest' },
          tools: { place_order: { description: 'd', type: 'function', policy: [], retry: { attempts: 1 }, masking: { allowKeys: ['qty'] } }, ask: {} },
        },
      ),
    ).not.toThrow();
  });
});
