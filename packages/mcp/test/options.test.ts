import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { AuditConfigError } from '@tooltrail/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditMcpClient } from '../src/index.js';
import { harness, type Harness } from './helpers.js';

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

let h: Harness | undefined;
afterEach(async () => {
  await h?.auditor.shutdown();
  h = undefined;
});

describe('auditMcpClient() options: an unknown key is an error naming the nearest valid name, when the client is wrapped', () => {
  it('the options, each tool\'s, their retry and masking', () => {
    h = harness();
    const auditor = h.auditor;
    const client = new Client({ name: 'options-test', version: '1.0.0' });
    const message = (options: unknown) => configError(() => auditMcpClient(client, { auditor, ...(options as object) } as never)).message;
    expect(message({ onDenid: 'throw' })).toBe('invalid auditMcpClient() options: unknown option `onDenid`; did you mean `onDenied`?');
    expect(message({ callID: () => 'x' })).toBe('invalid auditMcpClient() options: unknown option `callID`; did you mean `callId`?');
    expect(message({ atributes: { 'server.address': 'orders' } })).toBe(
      'invalid auditMcpClient() options: unknown option `atributes`; did you mean `attributes`?',
    );
    expect(message({ retry: { backofMs: 5 } })).toBe('invalid auditMcpClient() options: unknown option `retry.backofMs`; did you mean `retry.backoffMs`?');
    expect(message({ masking: { disabled: ['email'] } })).toBe('invalid auditMcpClient() options: unknown option `masking.disabled`; did you mean `masking.disable`?');
    expect(message({ auditr: auditor })).toBe('invalid auditMcpClient() options: unknown option `auditr`; did you mean `auditor`?');
    expect(message({ onRefusl: 'throw' })).toBe('invalid auditMcpClient() options: unknown option `onRefusl`; did you mean `onRefusal`?');
    expect(message({ sevrer: 1 })).toBe(
      'invalid auditMcpClient() options: unknown option `sevrer`; valid options here: auditor, onRefusal, formatRefusal, policy, retry, masking, type, tools, callId, attributes, onDenied',
    );
    expect(message({ tools: { get_order: { shema: z.object({ id: z.string() }) } } })).toBe(
      'invalid auditMcpClient() options: unknown option `tools.get_order.shema`; did you mean `tools.get_order.schema`?',
    );
    expect(message({ tools: { get_order: { name: 'x' } } })).toBe(
      'invalid auditMcpClient() options: unknown option `tools.get_order.name`; valid options here: description, schema, policy, retry, masking, type',
    );
    expect(message({ tools: { get_order: { masking: { reslt: 'digest' }, retry: { attempt: 2 } } } })).toBe(
      'invalid auditMcpClient() options: unknown option `tools.get_order.retry.attempt`; did you mean `tools.get_order.retry.attempts`?; ' +
        'unknown option `tools.get_order.masking.reslt`; did you mean `tools.get_order.masking.result`?',
    );
    expect(message({ tools: { get_order: 'extension' } })).toBe('invalid auditMcpClient() options: tools.get_order must be an object of options');
    expect(message({ tools: ['get_order'] })).toBe('invalid auditMcpClient() options: tools must be an object of per-tool options, by tool name');
    expect(configError(() => auditMcpClient(client, 'throw' as never)).message).toBe('auditMcpClient() options must be an object');
    // The client was never wrapped by a refused call: a valid wrap still works.
    expect(() =>
      auditMcpClient(client, {
        auditor,
        policy: [],
        retry: { attempts: 2, backoffMs: 1 },
        masking: { keys: ['token'] },
        type: 'extension',
        onRefusal: 'throw',
        formatRefusal: (r) => r.message,
        callId: () => undefined,
        attributes: { 'server.address': 'orders' },
        tools: { get_order: { description: 'd', schema: z.object({ id: z.string() }), policy: [], retry: { attempts: 1 }, masking: { result: 'digest' }, type: 'function' } },
      }),
    ).not.toThrow();
  });
});
