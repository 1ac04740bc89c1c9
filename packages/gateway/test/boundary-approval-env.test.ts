import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditConfigError, type ApprovalHandler, type ApprovalRequest } from '@tooltrail/core';
import { approvalHandlerFrom } from '../src/boundary/approval-handler.js';
import { parseGatewayConfig } from '../src/config/load.js';

/** `approval.command` with `env` (added to a minimal environment) and `cwd` (relative to the config's folder). */

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tt-approval-env-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'hooks'));
// The hook answers with what it saw: its working directory and three variables.
writeFileSync(
  join(dir, 'hooks', 'seen.cjs'),
  `process.stdin.resume();process.stdin.on('end',()=>process.stdout.write(JSON.stringify({decision:'approved',by:'hook',reason:JSON.stringify({cwd:process.cwd(),team:process.env.APPROVER_TEAM??null,secret:process.env.TT_B5_GATEWAY_SECRET??null,path:typeof process.env.PATH})})));`,
);

const servers = [{ name: 'files', principal: { id: 'svc:x' }, stdio: { command: 'node' } }];
const parse = (approval: unknown) => parseGatewayConfig(JSON.stringify({ approval, servers, audit: { endpoint: 'http://127.0.0.1:9' } }), dir, 'test config');

function request(): ApprovalRequest {
  return {
    tool: 'transfer',
    callId: 'call-1',
    args: {},
    argsMasked: '{}',
    rule: 'r',
    reason: 'why',
    run: { runId: 'run-1', parentRunId: undefined, principal: { id: 'user:1', type: 'user' }, agent: undefined, conversationId: undefined, attributes: {} },
    policy: { id: 'p', version: 'sha256:00' },
    signal: new AbortController().signal,
  };
}

describe('approval.command env and cwd', () => {
  it('the hook runs in cwd (resolved against the config folder) with env added to a minimal environment, not the gateway\'s', async () => {
    const config = parse({ command: ['node', 'seen.cjs'], env: { APPROVER_TEAM: 'payments-ops' }, cwd: 'hooks' });
    expect(config.approval).toEqual({ command: ['node', 'seen.cjs'], env: { APPROVER_TEAM: 'payments-ops' }, cwd: join(dir, 'hooks') });
    process.env.TT_B5_GATEWAY_SECRET = 'gateway-only';
    try {
      const answer = await (approvalHandlerFrom(config.approval) as ApprovalHandler)(request());
      expect(JSON.parse(String(answer.reason))).toEqual({ cwd: join(dir, 'hooks'), team: 'payments-ops', secret: null, path: 'string' });
    } finally {
      delete process.env.TT_B5_GATEWAY_SECRET;
    }
  });

  it('an unknown key, a bad variable name, an empty cwd are config errors', () => {
    const problem = (approval: unknown): string => {
      try {
        parse(approval);
      } catch (err) {
        expect(err).toBeInstanceOf(AuditConfigError);
        return (err as Error).message.split('\n').slice(1).join('\n');
      }
      throw new Error('no config error');
    };
    expect(problem({ command: ['node', 'seen.cjs'], shell: true })).toBe('  - approval: unknown key(s) "shell"');
    expect(problem({ command: ['node', 'seen.cjs'], env: { 'BAD NAME': 'x' } })).toBe('  - approval.env.BAD NAME: approval.env names must be environment variable names');
    expect(problem({ command: ['node', 'seen.cjs'], cwd: ' ' })).toBe('  - approval.cwd: approval.cwd must be a non-empty string');
    // env and cwd belong to the command hook, not to the HTTP endpoint.
    expect(problem({ url: 'http://127.0.0.1:9/approve', cwd: 'hooks' })).toBe('  - approval: unknown key(s) "cwd"');
  });
});
