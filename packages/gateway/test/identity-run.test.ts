import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuditConfigError, mintRunToken, runTokenKeyId, RUN_TOKEN_META_KEY } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { loadRunTokenKeys, runIdentityFor, RunTokenKeys, type ConnectionIdentity } from '../src/identity/index.js';

const agentKeys = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const T0 = 1_750_000_000_000;
let clock = T0;
const keys = new RunTokenKeys([agentKeys.publicKey], { now: () => clock });
const kid = runTokenKeyId(agentKeys.publicKey);

const filesAgent: ConnectionIdentity = { principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent' }, actForOthers: false, transport: 'stdio' };
const supportDesk: ConnectionIdentity = {
  principal: { id: 'svc:support', type: 'service' },
  agent: { name: 'support-bot' },
  actForOthers: true,
  transport: 'http',
  tokenName: 'support-agent',
};

function token(over: Partial<Parameters<typeof mintRunToken>[0]> = {}, key = agentKeys.privateKey): string {
  return mintRunToken({ runId: 'run-R', principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent', id: 'pid-42' }, now: clock, expiresInMs: 60_000, ...over }, key);
}
const meta = (t: unknown): Record<string, unknown> => ({ [RUN_TOKEN_META_KEY]: t, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });

describe('runIdentityFor: a run token can only narrow the connection', () => {
  it('without a token the run is the connection\'s, claim none', () => {
    for (const m of [undefined, {}, { traceparent: 'x' }]) {
      expect(runIdentityFor(filesAgent, m, keys, false)).toEqual({
        ok: true,
        run: { principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent' } },
        claim: 'none',
        attributes: { 'tooltrail.run.claim': 'none' },
      });
    }
  });

  it('a verified token of the same principal gives its run id and narrows the agent', () => {
    clock = T0;
    expect(runIdentityFor(filesAgent, meta(token()), keys, true)).toEqual({
      ok: true,
      run: { principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent', id: 'pid-42' }, runId: 'run-R' },
      claim: 'verified',
      attributes: { 'tooltrail.run.claim': 'verified', 'tooltrail.run.claim.key_id': kid },
    });
    // a token without principal type or agent is the same principal: the connection's type and agent stand
    const bare = runIdentityFor(filesAgent, meta(token({ principal: { id: 'svc:files-agent' }, agent: undefined })), keys, false);
    expect(bare.ok && bare.run).toEqual({ principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent' }, runId: 'run-R' });
  });

  it('rejects a verified token for another principal, another principal type, or another agent', () => {
    clock = T0;
    const other = runIdentityFor(filesAgent, meta(token({ principal: { id: 'user:42', type: 'user' } })), keys, false);
    expect(other).toEqual({ ok: false, reason: expect.stringMatching(/names principal "user:42" \(user\), but this connection is "svc:files-agent" \(service\) and may not act for other principals/) });
    const type = runIdentityFor(filesAgent, meta(token({ principal: { id: 'svc:files-agent', type: 'user' } })), keys, false);
    expect(type.ok).toBe(false);
    const agent = runIdentityFor(filesAgent, meta(token({ agent: { name: 'shell-agent' } })), keys, false);
    expect(agent).toEqual({ ok: false, reason: expect.stringMatching(/agent name "shell-agent", but this connection is agent "files-agent"/) });
    // rejected whatever requireToken says: the claim is signed and still oversteps
    expect(runIdentityFor(filesAgent, meta(token({ principal: { id: 'user:42' } })), keys, true).ok).toBe(false);
  });

  it('lets an actForOthers connection run for the token\'s principal, and records who vouched', () => {
    clock = T0;
    const t = token({ principal: { id: 'user:42', type: 'user' }, agent: { name: 'support-bot' }, runId: 'ticket-991' });
    expect(runIdentityFor(supportDesk, meta(t), keys, true)).toEqual({
      ok: true,
      run: { principal: { id: 'user:42', type: 'user' }, agent: { name: 'support-bot' }, runId: 'ticket-991' },
      claim: 'verified',
      attributes: {
        'tooltrail.connection.token.name': 'support-agent',
        'tooltrail.run.claim': 'verified',
        'tooltrail.run.claim.key_id': kid,
        'tooltrail.connection.principal.id': 'svc:support',
        'tooltrail.connection.principal.type': 'service',
      },
    });
    // acting for others is about principals: the agent still has to be the connection's
    expect(runIdentityFor(supportDesk, meta(token({ principal: { id: 'user:42' }, agent: { name: 'other-bot' } })), keys, false).ok).toBe(false);
  });

  it('records unsigned and invalid claims, with what they claim, and runs them as the connection', () => {
    clock = T0;
    const good = token({ principal: { id: 'user:mallory' }, runId: 'forged-run' });
    const [prefix, body] = good.split('.') as [string, string, string];
    const cases: Array<[unknown, string, string]> = [
      [`${prefix}.${body}.`, 'unsigned', 'unsigned'],
      [token({ principal: { id: 'user:mallory' }, runId: 'forged-run' }, stranger.privateKey), 'invalid', 'signature'],
      [`${prefix}.${body}.${'A'.repeat(86)}`, 'invalid', 'signature'],
      ['not a token', 'invalid', 'malformed'],
      [42, 'invalid', 'malformed'],
      [{ principal: 'user:mallory' }, 'invalid', 'malformed'],
    ];
    for (const [t, claim, reason] of cases) {
      const r = runIdentityFor(filesAgent, meta(t), keys, false);
      expect(r.ok, String(t)).toBe(true);
      if (!r.ok) continue;
      expect(r.claim).toBe(claim);
      expect(r.run).toEqual({ principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent' } });
      expect(r.attributes['tooltrail.run.claim']).toBe(claim);
      expect(r.attributes['tooltrail.run.claim.reason']).toBe(reason);
      if (typeof t === 'string' && t.startsWith('tt1.')) {
        expect(r.attributes).toMatchObject({ 'tooltrail.run.claim.run_id': 'forged-run', 'tooltrail.run.claim.principal.id': 'user:mallory' });
      }
    }
  });

  it('an expired token is invalid (expired); a token is checked at the keys\' clock', () => {
    clock = T0;
    const t = token();
    clock = T0 + 59_999;
    expect(runIdentityFor(filesAgent, meta(t), keys, false)).toMatchObject({ ok: true, claim: 'verified' });
    clock = T0 + 60_000;
    // cached as verified before: the cache still honours the expiry
    expect(runIdentityFor(filesAgent, meta(t), keys, false)).toMatchObject({ ok: true, claim: 'invalid', attributes: { 'tooltrail.run.claim.reason': 'expired' } });
    clock = T0 - 120_000;
    const fresh = new RunTokenKeys([agentKeys.publicKey], { now: () => clock });
    expect(runIdentityFor(filesAgent, meta(t), fresh, false)).toMatchObject({ claim: 'invalid', attributes: { 'tooltrail.run.claim.reason': 'not_yet_valid' } });
  });

  it('a token sent to a gateway without run token keys is unsigned (no_keys)', () => {
    clock = T0;
    expect(runIdentityFor(supportDesk, meta(token()), undefined, false)).toMatchObject({
      ok: true,
      claim: 'unsigned',
      run: { principal: { id: 'svc:support', type: 'service' } },
      attributes: { 'tooltrail.run.claim': 'unsigned', 'tooltrail.run.claim.reason': 'no_keys', 'tooltrail.run.claim.run_id': 'run-R' },
    });
  });

  it('require mode denies calls with no, unsigned or invalid tokens, and says why', () => {
    clock = T0;
    const [prefix, body] = token().split('.') as [string, string, string];
    expect(runIdentityFor(filesAgent, undefined, keys, true)).toEqual({ ok: false, reason: expect.stringMatching(/requires a run token .* has none/) });
    expect(runIdentityFor(filesAgent, meta(`${prefix}.${body}.`), keys, true)).toEqual({ ok: false, reason: expect.stringMatching(/is unsigned \(unsigned: /) });
    expect(runIdentityFor(filesAgent, meta(token({}, stranger.privateKey)), keys, true)).toEqual({ ok: false, reason: expect.stringMatching(/is invalid \(signature: /) });
    expect(runIdentityFor(filesAgent, meta(token()), undefined, true)).toEqual({ ok: false, reason: expect.stringMatching(/no run token keys/) });
  });
});

describe('loadRunTokenKeys', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-run-keys-'));
  const pem = (k: typeof agentKeys) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const write = (name: string, text: string, mode = 0o644) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    chmodSync(f, mode);
    return f;
  };

  it('reads one or several public keys from the PEM file (rotation), and nothing without the config', () => {
    expect(loadRunTokenKeys(undefined)).toBeUndefined();
    const one = loadRunTokenKeys({ publicKey: write('one.pem', pem(agentKeys)) })!;
    expect(one.keyIds).toEqual([kid]);
    const both = loadRunTokenKeys({ publicKey: write('both.pem', `${pem(stranger)}\n${pem(agentKeys)}`) }, { now: () => T0 })!;
    expect(both.keyIds).toEqual([runTokenKeyId(stranger.publicKey), kid]);
    clock = T0;
    expect(both.verify(token()).ok).toBe(true);
  });

  it('refuses a missing, empty, world-writable or non-Ed25519 key file', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => loadRunTokenKeys({ publicKey: path.join(dir, 'missing.pem') })).toThrow(AuditConfigError);
    expect(() => loadRunTokenKeys({ publicKey: write('empty.pem', 'nothing here') })).toThrow(/holds no "-----BEGIN PUBLIC KEY-----"/);
    expect(() => loadRunTokenKeys({ publicKey: write('open.pem', pem(agentKeys), 0o666) })).toThrow(/writable by every user/);
    expect(() => loadRunTokenKeys({ publicKey: write('rsa.pem', rsa) })).toThrow(/not an Ed25519 public key/);
    expect(() => new RunTokenKeys([])).toThrow(AuditConfigError);
  });
});
