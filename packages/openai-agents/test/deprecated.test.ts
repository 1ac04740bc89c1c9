import { resetDeprecationWarnings } from '@tooltrail/core/adapter';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditedTool, isAuditedTool } from '../src/index.js';
import { harness } from './helpers.js';

describe('deprecated names keep working', () => {
  it('auditedTool makes the same audited tool and warns once through the auditor\'s logger', async () => {
    resetDeprecationWarnings();
    const warnings: string[] = [];
    const h = harness({ logger: { warn: (m) => warnings.push(m) } });
    const make = () => auditedTool({ name: 'noop', description: 'noop', parameters: z.object({}), execute: async () => 'ok' }, { auditor: h.auditor, onInvalid: 'throw' });
    expect(isAuditedTool(make())).toBe(true);
    make();
    expect(warnings.filter((w) => w.includes('deprecated'))).toEqual([
      '@tooltrail/openai-agents auditedTool() is deprecated and will be removed in a later version; use auditOpenAIAgentsTool() instead',
      '@tooltrail/openai-agents option `onInvalid` is deprecated and will be removed in a later version; use `onRefusal` instead',
    ]);
    await h.auditor.shutdown();
  });
});
