import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { loadFilePolicy, type FilePolicy } from '@tooltrail/core/policy';
import { ToolPins } from '../src/pins/tool-pins.js';
import { deniedOutright, visibleTools } from '../src/boundary/visible-tools.js';

const dir = mkdtempSync(join(tmpdir(), 'tt-visible-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tool = (name: string): Tool => ({ name, inputSchema: { type: 'object' } });
const tools = ['read_file', 'write_file', 'delete_file', 'send_email', 'mail.forward', 'transfer', 'shell'].map(tool);

function policy(name: string, yaml: string): FilePolicy {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, yaml);
  return loadFilePolicy({ path, watch: false });
}

function names(p: FilePolicy | undefined): string[] {
  return visibleTools(tools, 'files', p, new ToolPins({ onChange: 'deny' })).map((t) => t.name);
}

describe('visibleTools: tools the policy file denies outright are left out of tools/list', () => {
  it('no policy: every tool is listed', () => {
    expect(names(undefined)).toEqual(tools.map((t) => t.name));
  });

  it('a deny without when (exact names and globs) hides; a conditional deny does not', () => {
    const p = policy(
      'globs',
      `id: globs
default: allow
rules:
  - { id: no-shell, tools: [shell], decide: deny, reason: never }
  - { id: no-mail, tools: ["mail.*", "send_*"], decide: deny }
  - { id: big-transfer, tools: [transfer], when: "has(args.amount) && args.amount > 1000", decide: deny }
`,
    );
    expect(names(p)).toEqual(['read_file', 'write_file', 'delete_file', 'transfer']);
    expect(deniedOutright(p, 'shell')).toEqual({ rule: 'no-shell', reason: 'never' });
    expect(deniedOutright(p, 'transfer')).toBeUndefined();
  });

  it('an allow or ask earlier in file order (even a conditional one) keeps the tool listed; a later one does not', () => {
    const p = policy(
      'order',
      `id: order
default: allow
rules:
  - { id: owner-may-delete, tools: [delete_file], when: "run.principal.id == 'user:owner'", decide: allow }
  - { id: no-delete, tools: [delete_file], decide: deny }
  - { id: review-writes, tools: [write_file], decide: ask }
  - { id: no-writes, tools: ["*_file"], decide: deny }
  - { id: late-allow, tools: [read_file], decide: allow }
`,
    );
    // delete_file: a conditional allow first; write_file: an ask first; read_file: the deny comes before its allow.
    expect(names(p)).toEqual(['write_file', 'delete_file', 'send_email', 'mail.forward', 'transfer', 'shell']);
  });

  it('rewrites and conditional denies are passed over, as the evaluator does', () => {
    const p = policy(
      'rewrite',
      `id: rewrite
default: allow
rules:
  - { id: strip-bcc, tools: [send_email], decide: rewrite, remove: [bcc] }
  - { id: external, tools: [send_email], when: "facts.emails.exists(e, !inDomain(e.domain, 'example.com'))", decide: deny }
  - { id: mail-off, tools: [send_email], decide: deny }
`,
    );
    expect(names(p)).not.toContain('send_email');
    expect(deniedOutright(p, 'send_email')?.rule).toBe('mail-off');
  });

  it('default deny: a tool no allow or ask rule can reach is denied by every call, so it is hidden', () => {
    const p = policy(
      'default-deny',
      `id: default-deny
default: deny
rules:
  - { id: reads, tools: [read_file], decide: allow }
  - { id: mail-inside, tools: [send_email], when: "facts.emails.all(e, inDomain(e.domain, 'example.com'))", decide: allow }
  - { id: transfers, tools: [transfer], decide: ask }
`,
    );
    expect(names(p)).toEqual(['read_file', 'send_email', 'transfer']);
    expect(deniedOutright(p, 'shell')).toEqual({ rule: undefined, reason: 'policy default-deny denies by default' });
  });

  it('the policy sees the name the auditor records (policyName), and the filter follows what the decision would be', () => {
    const p = policy(
      'prefixed',
      `id: prefixed
default: allow
rules:
  - { id: no-files-delete, tools: ["files__delete_*"], decide: deny }
`,
    );
    const pins = new ToolPins({ onChange: 'deny' });
    expect(visibleTools(tools, 'files', p, pins).map((t) => t.name)).toContain('delete_file');
    const prefixed = visibleTools(tools, 'files', p, pins, { policyName: (t, server) => `${server}__${t.name}` }).map((t) => t.name);
    expect(prefixed).not.toContain('delete_file');
    expect(prefixed).toHaveLength(tools.length - 1);
    // The hidden tool is what the policy denies on a call, whatever the arguments.
    expect(p.decide({ tool: 'files__delete_file', args: { path: '/x' }, run: { principal: { id: 'user:owner' } } }).kind).toBe('deny');
  });

  it('pins and policy together: a changed tool under hide and a denied tool are both left out', () => {
    const p = policy('shell-off', 'id: shell-off\ndefault: allow\nrules:\n  - { id: no-shell, tools: [shell], decide: deny }\n');
    const pins = new ToolPins({ onChange: 'hide' });
    visibleTools(tools, 'files', p, pins);
    const changed = tools.map((t) => (t.name === 'read_file' ? { ...t, description: 'now different' } : t));
    expect(visibleTools(changed, 'files', p, pins).map((t) => t.name)).toEqual(['write_file', 'delete_file', 'send_email', 'mail.forward', 'transfer']);
    // The denied tool was pinned too (its change would be seen): every listed tool is checked.
    expect(pins.pinned('files', 'shell')).toBeDefined();
  });
});
