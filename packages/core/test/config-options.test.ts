import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AuditConfigError, allow, auditTools, createAuditor, deny, sensitive, setDefaultAuditor, withAudit, type AuditorOptions } from '../src/index.js';
import { alice, harness, rejection } from './helpers.js';

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

const base = (): AuditorOptions => ({ serviceName: 'config-test', exporter: new InMemorySpanExporter(), logger: { warn: () => undefined } });

describe('unknown option keys are errors that name the key and the nearest valid name', () => {
  it('the issue\'s two typos, exactly', () => {
    const typo = configError(() => createAuditor({ ...base(), duribility: 'strict' } as never));
    expect(typo.message).toBe('invalid auditor options: unknown option `duribility`; did you mean `durability`?');
    expect(typo.code).toBe('TOOLTRAIL_CONFIG');
    const nested = configError(() => createAuditor({ ...base(), integrity: { checkpointEvry: 10 } } as never));
    expect(nested.message).toBe('invalid auditor options: unknown option `integrity.checkpointEvry`; did you mean `integrity.checkpointEvery`?');
  });

  it('every group of the auditor options: export, exportQueue, masking and its detectors', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ export: { timeoutMS: 5 } }, 'unknown option `export.timeoutMS`; did you mean `export.timeoutMs`?'],
      [{ exportQueue: { maxBatchSize: 5 } }, 'unknown option `exportQueue.maxBatchSize`; did you mean `exportQueue.maxBatch`?'],
      [{ masking: { allowkey: ['x'] } }, 'unknown option `masking.allowkey`; did you mean `masking.allowKeys`?'],
      [
        { masking: { detectors: [{ id: 'ticket', pattern: /T-\d+/, stratgy: 'hash' }] } },
        'unknown option `masking.detectors[0].stratgy`; did you mean `masking.detectors[0].strategy`?',
      ],
      [{ integrity: { lineagefile: '/tmp/x' } }, 'unknown option `integrity.lineagefile`; did you mean `integrity.lineageFile`?'],
      [{ policyTimeout: 100 }, 'unknown option `policyTimeout`; did you mean `policyTimeoutMs`?'],
      [{ zzzzzzzz: 1 }, 'unknown option `zzzzzzzz`; valid options here: '],
    ];
    for (const [extra, expected] of cases) {
      const err = configError(() => createAuditor({ ...base(), ...extra } as never));
      expect(err.issues[0]).toContain(expected);
    }
    // Several at once are all listed.
    const many = configError(() => createAuditor({ ...base(), runSpan: true, requireIdentiy: false } as never));
    expect(many.issues).toEqual([
      'unknown option `runSpan`; did you mean `runSpans`?',
      'unknown option `requireIdentiy`; did you mean `requireIdentity`?',
    ]);
    // Valid names are still accepted, values still checked.
    expect(() => createAuditor({ ...base(), policyTimeoutMs: 250, integrity: { checkpointEvery: 3 } })).not.toThrow();
    expect(configError(() => createAuditor({ ...base(), policyTimeoutMs: -1 })).message).toMatch(/policyTimeoutMs/);
  });

  it('per-tool options of withAudit and auditTools, retry, masking of a tool', () => {
    const h = harness();
    const tool = async () => 1;
    expect(configError(() => h.auditor.withAudit(tool, { name: 't', retyr: { attempts: 2 } } as never)).message).toBe(
      'tool "t": invalid options: unknown option `retyr`; did you mean `retry`?',
    );
    expect(configError(() => h.auditor.withAudit(tool, { name: 't', retry: { attempt: 2 } } as never)).message).toBe(
      'tool "t": invalid options: unknown option `retry.attempt`; did you mean `retry.attempts`?',
    );
    expect(configError(() => h.auditor.withAudit(tool, { name: 't', retry: { attempts: 0 } })).message).toMatch(/retry\.attempts must be an integer of at least 1/);
    expect(configError(() => h.auditor.withAudit(tool, { name: 't', masking: { reslt: 'digest' } } as never)).message).toBe(
      'tool "t": invalid options: unknown option `masking.reslt`; did you mean `masking.result`?',
    );
    // The default auditor's withAudit checks the same way, at wrap time (no auditor needed yet).
    expect(configError(() => withAudit(tool, { name: 't', descripton: 'x' } as never)).message).toMatch(/`descripton`; did you mean `description`/);
    const registry = { sendEmail: async () => 1, lookup: async () => 2 };
    expect(configError(() => h.auditor.auditTools(registry, { tools: { sendEmial: {} } } as never)).message).toBe(
      'invalid auditTools() options: unknown option `tools.sendEmial`; did you mean `tools.sendEmail`?',
    );
    expect(configError(() => h.auditor.auditTools(registry, { tools: { sendEmail: { polcy: [] } } } as never)).message).toBe(
      'tool "sendEmail": invalid options: unknown option `tools.sendEmail.polcy`; did you mean `tools.sendEmail.policy`?',
    );
    expect(configError(() => auditTools(registry, { retryy: {} } as never)).message).toMatch(/`retryy`; did you mean `retry`/);
  });

  it('run identity and invokeWith() options: the call is refused before anything runs', async () => {
    const h = harness();
    let ran = 0;
    const tool = h.auditor.withAudit(async () => ran++, { name: 't' });
    const err = await rejection(h.auditor.run({ principal: { id: 'u', tpye: 'user' } } as never, () => tool()));
    expect((err as AuditConfigError).message).toBe('invalid run identity: unknown option `principal.tpye`; did you mean `principal.type`?');
    const err2 = await rejection(h.auditor.run({ ...alice, conversationID: 'c' } as never, () => tool()));
    expect((err2 as AuditConfigError).issues).toEqual(['unknown option `conversationID`; did you mean `conversationId`?']);
    const err3 = await h.auditor.run(alice, () => rejection(tool.invokeWith({ callID: 'x' } as never)));
    expect((err3 as AuditConfigError).message).toBe('tool "t": invalid invokeWith() options; the call was not run: unknown option `callID`; did you mean `callId`?');
    expect(ran).toBe(0);
    expect((await h.toolSpans()).length).toBe(0);
  });

  it('sensitive() and decision options', async () => {
    expect(configError(() => sensitive(z.string(), { knd: 'ssn' } as never)).message).toBe('invalid sensitive() options: unknown option `knd`; did you mean `kind`?');
    const h = harness();
    let ran = 0;
    // A typo in a decision's options inside a rule: the rule throws, so the call is denied (fail closed).
    const tool = h.auditor.withAudit(async () => ran++, { name: 't', policy: [() => deny('no', { rul: 'x' } as never)] });
    const err = await h.auditor.run(alice, () => rejection(tool()));
    expect((err as Error).message).toMatch(/denied by rule tooltrail\.policy-error:policy\[0\].*unknown option `rul`; did you mean `rule`\?/);
    expect(ran).toBe(0);
    expect(() => allow('fine', { rule: 'ok' })).not.toThrow();
  });

  it('flush and shutdown deadlines must be numbers of milliseconds', async () => {
    const h = harness();
    await expect(h.auditor.flush(Number.NaN)).rejects.toThrow(/flush\(timeoutMs\)/);
    await expect(h.auditor.shutdown(-5)).rejects.toThrow(/shutdown\(timeoutMs\)/);
    expect(h.auditor.isShutdown).toBe(false);
    setDefaultAuditor(undefined);
  });
});
