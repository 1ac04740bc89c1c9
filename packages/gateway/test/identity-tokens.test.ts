import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newToken, tokenHash } from '@tooltrail/cli';
import { AuditConfigError } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { identityFromToken, loadGatewayTokens, loadTokenLookup, parseGatewayTokens, stdioIdentity } from '../src/identity/index.js';

const support = newToken('support-agent');
const billing = newToken('billing');
const dir = mkdtempSync(path.join(tmpdir(), 'gw-tokens-'));

function file(name: string, value: unknown, mode = 0o600): string {
  const f = path.join(dir, name);
  writeFileSync(f, typeof value === 'string' ? value : JSON.stringify(value));
  chmodSync(f, mode);
  return f;
}

const gatewayFile = {
  version: 1,
  writers: [
    {
      ...support.entry,
      principal: { id: 'svc:support', type: 'service' },
      agent: { name: 'support-bot', id: 'bot-7' },
      actForOthers: true,
      comment: 'the support desk, serving many users',
    },
    { ...billing.entry, principal: { id: 'user:alice', type: 'user' } },
  ],
};

describe('HTTP bearer tokens → connection identity', () => {
  it('maps each token of a gateway tokens file to its principal, agent and actForOthers', () => {
    const table = loadTokenLookup(file('gateway-tokens.json', gatewayFile));
    expect(table.size).toBe(2);
    expect(identityFromToken(`Bearer ${support.token}`, table)).toEqual({
      principal: { id: 'svc:support', type: 'service' },
      agent: { name: 'support-bot', id: 'bot-7' },
      actForOthers: true,
      transport: 'http',
      tokenName: 'support-agent',
    });
    expect(identityFromToken(`bearer\t${billing.token} `, table)).toEqual({
      principal: { id: 'user:alice', type: 'user' },
      actForOthers: false,
      transport: 'http',
      tokenName: 'billing',
    });
  });

  it('answers undefined (a 401) for no header, another scheme, an unknown token or a token\'s hash', () => {
    const table = loadTokenLookup(file('gateway-tokens.json', gatewayFile));
    for (const header of [undefined, '', 'Bearer', `Basic ${support.token}`, `Bearer ${support.token}x`, `Bearer ${support.entry.sha256}`, `Bearer ${support.token} ${billing.token}`, support.token]) {
      expect(identityFromToken(header, table), String(header)).toBeUndefined();
    }
  });

  it('gives a new object on every call: setting a session id on one connection leaves the next alone', () => {
    const table = loadTokenLookup(file('gateway-tokens.json', gatewayFile));
    const a = identityFromToken(`Bearer ${support.token}`, table)!;
    a.sessionId = 's-1';
    a.principal.id = 'tampered';
    expect(identityFromToken(`Bearer ${support.token}`, table)).not.toHaveProperty('sessionId');
    expect(identityFromToken(`Bearer ${support.token}`, table)?.principal.id).toBe('svc:support');
  });

  it('reads a collector tokens file as it is: each writer a service principal of its name', () => {
    const table = loadTokenLookup(file('collector-tokens.json', { version: 1, writers: [billing.entry] }));
    expect(identityFromToken(`Bearer ${billing.token}`, table)).toEqual({
      principal: { id: 'billing', type: 'service' },
      actForOthers: false,
      transport: 'http',
      tokenName: 'billing',
    });
  });

  it('refuses bad files with every problem named, by the collector\'s rules and its own', () => {
    const bad = (value: unknown) => () => parseGatewayTokens(value, 'tokens.json');
    expect(bad([])).toThrow(AuditConfigError);
    expect(bad({ version: 2, writers: [billing.entry] })).toThrow(/"version" must be 1/);
    expect(bad({ version: 1, writers: [] })).toThrow(/empty/);
    expect(bad({ version: 1, writers: [{ ...billing.entry, sha256: 'x' }] })).toThrow(/sha256/);
    expect(bad({ version: 1, writers: [billing.entry, { ...billing.entry, writer: 'other' }] })).toThrow(/listed twice/);
    expect(bad({ version: 1, writers: [{ ...billing.entry, role: 'admin' }] })).toThrow(/unknown key "role"/);
    expect(bad({ version: 1, writers: [{ ...billing.entry, principal: 'user:alice' }] })).toThrow(/principal must be an object/);
    expect(bad({ version: 1, writers: [{ ...billing.entry, principal: { id: '' } }] })).toThrow(/principal\.id must be/);
    expect(bad({ version: 1, writers: [{ ...billing.entry, principal: { id: 'u', admin: true } }] })).toThrow(/principal: unknown key "admin"/);
    expect(bad({ version: 1, writers: [{ ...billing.entry, agent: { name: 3 } }] })).toThrow(/agent\.name must be/);
    expect(bad({ version: 1, writers: [{ ...billing.entry, actForOthers: 'yes' }] })).toThrow(/actForOthers must be true or false/);
    expect(bad({ version: 1, writers: [{ ...billing.entry, actForOthers: true }] })).toThrow(/actForOthers needs an explicit principal/);
    // several problems at once, in one error
    let err: unknown;
    try {
      parseGatewayTokens({ version: 1, writers: [{ ...billing.entry, principal: { id: '' }, agent: 'x', actForOthers: 1 }] });
    } catch (e) {
      err = e;
    }
    expect((err as AuditConfigError).issues).toHaveLength(3);
    // the token itself never appears in a message, only the entry's position
    expect(String(err)).not.toContain(billing.token);
  });

  it('refuses a file every user may write, one that is not JSON, and one that is missing', () => {
    expect(() => loadGatewayTokens(file('open.json', gatewayFile, 0o666))).toThrow(/writable by every user/);
    expect(() => loadGatewayTokens(file('text.json', 'not json'))).toThrow(/is not JSON/);
    expect(() => loadGatewayTokens(path.join(dir, 'missing.json'))).toThrow(AuditConfigError);
    expect(tokenHash(support.token)).toBe(support.entry.sha256);
  });
});

describe('stdio connection identity', () => {
  it('is the server entry\'s principal and agent, copied', () => {
    const entry = { principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent' } };
    const conn = stdioIdentity(entry);
    expect(conn).toEqual({ principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent' }, actForOthers: false, transport: 'stdio' });
    conn.principal.id = 'x';
    expect(entry.principal.id).toBe('svc:files-agent');
    expect(stdioIdentity({ principal: { id: 'svc:x' }, actForOthers: true })).toEqual({ principal: { id: 'svc:x' }, actForOthers: true, transport: 'stdio' });
  });
});
