import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditConfigError, AuditDeniedError, AuditValidationError, createAuditor, semconv as sc } from '../src/index.js';
import { freePort, tempDir } from './collector-harness.js';
import { alice, harness } from './helpers.js';

describe('recordRefused: a call the framework refused before any body ran', () => {
  it('kind denied: one execute_tool record, outcome denied, rule tooltrail.framework, attempts 0; the body never runs', async () => {
    const h = harness();
    let ran = 0;
    const tool = h.auditor.withAudit(async (_a: { q: string }) => ++ran, { name: 'search' });
    const refusal = h.auditor.run(alice, () =>
      tool.recordRefused({ args: { q: 'x' }, callId: 'call-7', reason: 'guardrail tripped', kind: 'denied', by: 'openai-agents.guardrail', attributes: { 'framework.step': 3 } }),
    );
    const err = await refusal;
    expect(AuditDeniedError.isInstance(err)).toBe(true);
    const denied = err as AuditDeniedError;
    expect(denied.rule).toBe('tooltrail.framework');
    expect(denied.callId).toBe('call-7');
    expect(denied.reason).toBe('guardrail tripped');
    expect(ran).toBe(0);
    const spans = await h.spans();
    // The run span and the call's record, nothing else (beside the integrity stream's own records).
    expect(spans.map((s) => s.name).filter((n) => !n.startsWith('tooltrail.'))).toEqual(['execute_tool search', 'invoke_agent support-bot']);
    const [span] = await h.toolSpans();
    expect(span!.name).toBe('execute_tool search');
    expect(span!.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'search',
      'gen_ai.tool.call.id': 'call-7',
      'gen_ai.tool.call.arguments': '{"q":"x"}',
      'tooltrail.outcome': 'denied',
      'tooltrail.decision': 'deny',
      'tooltrail.policy.rule': 'tooltrail.framework',
      'tooltrail.policy.reason': 'guardrail tripped',
      'tooltrail.refused.by': 'openai-agents.guardrail',
      'tooltrail.refused.reason': 'guardrail tripped',
      'tooltrail.attempts': 0,
      'error.type': 'tooltrail.denied',
      'user.id': 'user:42',
      'gen_ai.agent.name': 'support-bot',
      'framework.step': 3,
    });
    expect(span!.status.code).toBe(2);
    expect(h.auditor.stats().calls).toEqual({ ok: 0, error: 0, denied: 1, invalid: 0 });
  });

  it('kind invalid: outcome invalid with the given issues, or one issue holding the reason', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async () => 1, { name: 'parse' });
    const given = [{ path: ['a'], code: 'invalid_json', message: 'Unexpected token' }];
    const e1 = tool.recordRefused({ args: '{"a":', reason: 'the model sent bad JSON', kind: 'invalid', issues: given });
    const e2 = tool.recordRefused({ reason: 'arguments unusable', kind: 'invalid' });
    expect(AuditValidationError.isInstance(e1)).toBe(true);
    expect((e1 as AuditValidationError).issues).toEqual(given);
    expect((e2 as AuditValidationError).issues).toEqual([{ path: [], code: sc.ISSUE_FRAMEWORK_INVALID, message: 'arguments unusable' }]);
    const spans = await h.toolSpans();
    expect(spans.map((s) => s.attributes[sc.ATTR_OUTCOME])).toEqual(['invalid', 'invalid']);
    expect(spans[0]!.attributes[sc.ATTR_VALIDATION_ISSUES]).toBe(JSON.stringify(given));
    expect(spans[0]!.attributes[sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]).toBe('"{\\"a\\":"');
    expect(spans[0]!.attributes[sc.ATTR_ATTEMPTS]).toBe(0);
    expect(spans[0]!.attributes[sc.ATTR_POLICY_RULE]).toBeUndefined();
    expect(spans[0]!.attributes[sc.ATTR_ERROR_TYPE]).toBe(sc.ERROR_TYPE_INVALID);
    expect(h.auditor.stats().calls).toEqual({ ok: 0, error: 0, denied: 0, invalid: 2 });
  });

  it('a rejected approval the framework handled itself: rule tooltrail.approval and the approval event', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async () => 1, { name: 'pay' });
    const err = tool.recordRefused({
      reason: 'not this month',
      kind: 'denied',
      approval: { decision: 'rejected', by: 'user:carol', reason: 'not this month', source: 'openai-agents.needsApproval' },
    }) as AuditDeniedError;
    expect(err.rule).toBe('tooltrail.approval');
    const [span] = await h.toolSpans();
    expect(span!.attributes[sc.ATTR_POLICY_RULE]).toBe('tooltrail.approval');
    expect(span!.attributes[sc.ATTR_APPROVAL_DECISION]).toBe('rejected');
    expect(span!.attributes[sc.ATTR_APPROVAL_BY]).toBe('user:carol');
    expect(span!.events.map((e) => [e.name, e.attributes?.[sc.ATTR_APPROVAL_SOURCE]])).toEqual([['tooltrail.approval', 'openai-agents.needsApproval']]);
  });

  it('masks the proposed arguments and the reason', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async () => 1, { name: 'login' });
    tool.recordRefused({ args: { user: 'bob', password: 'hunter2-secret' }, reason: 'card 4111 1111 1111 1111 blocked', kind: 'denied' });
    const [span] = await h.toolSpans();
    const all = JSON.stringify(span!.attributes) + String(span!.status.message);
    expect(all).not.toContain('hunter2-secret');
    expect(all).not.toContain('4111 1111');
    expect(String(span!.attributes[sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS])).toContain('bob');
    expect(Number(span!.attributes[sc.ATTR_MASK_COUNT])).toBeGreaterThanOrEqual(2);
  });

  it('rejects a malformed report at once and records nothing', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async () => 1, { name: 't' });
    for (const bad of [{ kind: 'denied' }, { reason: 'x', kind: 'maybe' }, { reason: 'x', kind: 'denied', extra: 1 }, { reason: 'x', kind: 'denied', approval: { decision: 'rejected' } }]) {
      expect(() => tool.recordRefused(bad as never)).toThrow(AuditConfigError);
    }
    expect(await h.toolSpans()).toHaveLength(0);
    expect(h.auditor.stats().calls).toEqual({ ok: 0, error: 0, denied: 0, invalid: 0 });
  });

  it('strict durability: the record is committed to the spool before recordRefused returns', async () => {
    const down = await freePort();
    const spoolDir = tempDir('refused-strict');
    const auditor = createAuditor({
      serviceName: 'refused-strict',
      endpoint: `http://127.0.0.1:${down}`,
      durability: 'strict',
      spoolDir,
      logger: { warn() {} },
      export: { timeoutMs: 200, initialBackoffMs: 10 },
    });
    const tool = auditor.withAudit(async () => 1, { name: 'wire_money' });
    const before = spooled(spoolDir);
    tool.recordRefused({ reason: 'blocked by the framework', kind: 'denied', callId: 'strict-1' });
    // Synchronously after the return: already on disk.
    const after = spooled(spoolDir);
    expect(before).not.toContain('strict-1');
    expect(after).toContain('execute_tool wire_money');
    expect(after).toContain('strict-1');
    expect(after).toContain('tooltrail.framework');
    await auditor.shutdown(200);
  });
});

function spooled(dir: string): string {
  let out = '';
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out += readFileSync(p).toString('latin1');
    }
  };
  walk(dir);
  return out;
}
