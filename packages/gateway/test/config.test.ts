import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditConfigError } from '@tooltrail/core';
import { DEFAULT_SPOOL_DIR, parseGatewayConfig } from '../src/config/load.js';

/** The gateway's config: a typo or a combination that would weaken the trail is an error naming it. */

const dir = '/etc/tooltrail-gateway';
const server = { name: 'files', principal: { id: 'svc:files' }, stdio: { command: 'node', args: ['server.mjs'] } };
const stdio = { audit: { endpoint: 'http://127.0.0.1:4318' }, servers: [server] };
const http = { listen: { http: { port: 8931, tokensFile: './tokens.json' } }, servers: [{ name: 'files', stdio: { command: 'node' } }] };

function problems(config: unknown): string {
  try {
    parseGatewayConfig(JSON.stringify(config), dir, 'test config');
  } catch (err) {
    expect(AuditConfigError.isInstance(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('gateway config', () => {
  it('resolves paths against the config folder, and puts the spool there when none is named', () => {
    const c = parseGatewayConfig(JSON.stringify({ ...stdio, policyFile: 'policy.yaml', pins: { file: 'pins.json', onChange: 'deny' } }), dir, 'test config');
    expect(c.audit?.spoolDir).toBe(path.join(dir, DEFAULT_SPOOL_DIR));
    expect(c.policyFile).toBe(path.join(dir, 'policy.yaml'));
    expect(c.pins?.file).toBe(path.join(dir, 'pins.json'));
    expect(c.servers[0]!.stdio?.cwd).toBe(dir);
    const named = parseGatewayConfig(JSON.stringify({ ...stdio, audit: { ...stdio.audit, spoolDir: 'var/spool' } }), dir, 'test config');
    expect(named.audit?.spoolDir).toBe(path.join(dir, 'var/spool'));
  });

  it('stdio mode needs audit.endpoint (the agent sets the environment); HTTP mode may take it from its own', () => {
    expect(problems({ servers: [server] })).toContain('audit.endpoint: stdio mode needs audit.endpoint');
    expect(parseGatewayConfig(JSON.stringify(http), dir, 'test config').audit?.endpoint).toBeUndefined();
  });

  it('refuses unknown keys at every level, with their names', () => {
    expect(problems({ ...stdio, audti: {} })).toContain('unknown key(s) "audti"');
    expect(problems({ ...stdio, audit: { ...stdio.audit, spooldir: 'x' } })).toContain('unknown key(s) "spooldir"');
    expect(problems({ ...http, listen: { http: { ...http.listen.http, maxSession: 3 } } })).toContain('unknown key(s) "maxSession"');
  });

  it('refuses server names used twice or holding the tool-name separator', () => {
    const two = { ...stdio, servers: [server, { ...server }] };
    expect(problems(two)).toContain('server name "files" is used twice');
    const sep = { ...http, servers: [{ name: 'a', stdio: { command: 'node' } }, { name: 'a__b', stdio: { command: 'node' } }] };
    expect(problems(sep)).toContain('server name "a__b" contains "__", the separator of prefixed tool names');
    const trailing = { ...http, servers: [{ name: 'a', stdio: { command: 'node' } }, { name: 'a_', stdio: { command: 'node' } }] };
    expect(problems(trailing)).toContain('server name "a_" ends in "_"');
  });

  it('refuses stdio mode without a principal, and session limits that contradict each other', () => {
    expect(problems({ audit: stdio.audit, servers: [{ name: 'files', stdio: { command: 'node' } }] })).toContain('stdio mode needs the principal');
    expect(problems({ ...http, listen: { http: { ...http.listen.http, maxSessions: 4, maxSessionsPerToken: 8 } } })).toMatch(/maxSessionsPerToken/);
  });
});
