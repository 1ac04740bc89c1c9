import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { AuditConfigError } from '@tooltrail/core';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { ToolPins } from '../src/pins/tool-pins.js';
import { definitionHash } from '../src/pins/canonical-json.js';
import { cliBin, closeStdio, fixtureServer, newClient, tempDir, waitForCalls, writeConfig, resultText as text } from './fixtures/harness.js';

/**
 * A pin that is not kept protects nothing after a restart: a pins folder the gateway cannot
 * write stops it at start, and while the file cannot be written a tool seen for the first time
 * is denied (said on stderr and in the trail), never pinned in memory only.
 */

const readFile = { name: 'read_file', description: 'Reads a file', inputSchema: { type: 'object' } };
const listDir = { name: 'list_dir', inputSchema: { type: 'object' } };

/** A folder that exists and that this process cannot create a file in (root writes through modes: /proc refuses everyone). */
function unwritableFolder(): string {
  if (process.getuid?.() === 0) return '/proc';
  const dir = tempDir('gw-pins-ro');
  chmodSync(dir, 0o500);
  return dir;
}

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(() => killAll());

describe('ToolPins and an unwritable pins file', () => {
  it('a pins folder that is not writable is an AuditConfigError at construction', () => {
    const file = path.join(unwritableFolder(), 'pins.json');
    let error: unknown;
    try {
      new ToolPins({ file, onChange: 'deny' });
    } catch (err) {
      error = err;
    }
    expect(AuditConfigError.isInstance(error)).toBe(true);
    expect((error as AuditConfigError).issues.join('\n')).toContain(`the folder of pins file ${file} is not writable`);
  });

  it('a failed write is warned at the 1st and 10th failure; the new tool is denied until the pin is kept', () => {
    const dir = path.join(tempDir('gw-pins-rt'), 'pins');
    mkdirSync(dir);
    const file = path.join(dir, 'pins.json');
    const warnings: string[] = [];
    const pins = new ToolPins({ file, onChange: 'deny', warn: (m) => warnings.push(m) });
    expect(pins.check('files', readFile)).toBe('ok');
    rmSync(dir, { recursive: true });
    // The file is gone with its folder: the pins in memory stay in force, and no new pin can be kept.
    for (let i = 0; i < 10; i++) expect(pins.check('files', listDir)).toBe('changed');
    expect(pins.pinned('files', 'read_file')).toBe(definitionHash(readFile));
    const change = pins.changeOf('files', 'list_dir')!;
    expect(change).toMatchObject({ server: 'files', tool: 'list_dir', oldHash: '', newHash: definitionHash(listDir) });
    expect(change.unkept).toContain(`cannot write pins file ${file}`);
    expect(pins.pinned('files', 'list_dir')).toBeUndefined();
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toBe(`tooltrail gateway: pins file ${file} is gone; the 1 pin(s) in memory stay in force and are written again at the next new pin`);
    expect(warnings[1]).toMatch(new RegExp(`^tooltrail gateway: cannot write pins file ${file}: ENOENT.*calls are denied`));
    expect(warnings[2]).toMatch(/\[10 failures so far\]$/);
    mkdirSync(dir);
    expect(pins.check('files', listDir)).toBe('ok');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, servers: { files: { list_dir: definitionHash(listDir), read_file: definitionHash(readFile) } } });
    expect(pins.status()).toMatchObject({ pinned: 2, changed: 0, unkept: 0, lastError: undefined });
  });
});

describe('the gateway and an unwritable pins file', () => {
  it('does not start: the CLI exits 1 with the message', () => {
    const dir = tempDir('gw-pins-start');
    const file = path.join(unwritableFolder(), 'pins.json');
    const config = writeConfig(dir, {
      audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') },
      pins: { file, onChange: 'deny' },
      servers: [{ name: 'files', principal: { id: 'svc:files-agent', type: 'service' }, stdio: { command: process.execPath, args: [fixtureServer] } }],
    });
    const r = spawnSync(process.execPath, [cliBin, 'gateway', '--config', config], { encoding: 'utf8', timeout: 20_000, input: '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`the folder of pins file ${file} is not writable`);
  });

  it('a pins folder gone mid-run: a tool seen for the first time is denied, warned and recorded', async () => {
    const dir = tempDir('gw-pins-gone');
    const pinsDir = path.join(dir, 'pins');
    mkdirSync(pinsDir);
    const pinsFile = path.join(pinsDir, 'pins.json');
    const config = writeConfig(dir, {
      serviceName: 'gw-pins-gone',
      audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') },
      pins: { file: pinsFile, onChange: 'deny' },
      servers: [{ name: 'files', principal: { id: 'svc:files-agent', type: 'service' }, stdio: { command: process.execPath, args: [fixtureServer], env: { FIXTURE_NAME: 'files' } } }],
    });
    const transport = new StdioClientTransport({ command: process.execPath, args: [cliBin, 'gateway', '--config', config], env: getDefaultEnvironment(), stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const client: Client = newClient();
    await client.connect(transport);
    rmSync(pinsDir, { recursive: true });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    const r = await client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: { 'tooltrail/callId': 'unkept-echo' } });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`its pin cannot be kept: cannot write pins file ${pinsFile}`);
    await closeStdio(client, transport);
    // Every tool listed and the call failed to be pinned: warned at the 1st and 10th failure, not at each.
    const failures = tools.length + 1;
    expect(stderr.match(/cannot write pins file/g)).toHaveLength([1, 10, 100].filter((n) => n <= failures).length);
    expect(stderr).toContain(`tooltrail gateway: cannot write pins file ${pinsFile}: ENOENT`);
    const [call] = (await waitForCalls(collector.dir, 1)).filter((c) => c.attributes['gen_ai.tool.call.id'] === 'unkept-echo');
    expect(call!.attributes).toMatchObject({ 'tooltrail.outcome': 'denied', 'tooltrail.refused.by': 'tooltrail.gateway.pins', 'tooltrail.mcp.tool.hash.new': expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(call!.attributes['tooltrail.mcp.tool.hash.old']).toBeUndefined();
    expect(String(call!.attributes['tooltrail.refused.reason'])).toContain(pinsFile);
    // Nothing was pinned anywhere: a restart cannot have a rug-pulled echo pinned afresh by this run.
    expect(readdirSync(dir).includes('pins')).toBe(false);
  }, 30_000);
});
