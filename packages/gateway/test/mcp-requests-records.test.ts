import { describe, expect, it } from 'vitest';
import type { Auditor } from '@tooltrail/core';
import { failModeOf, RECORD_MCP_REQUEST, RECORD_MCP_SERVER_REQUEST, RequestRecords, requestEvent } from '../src/audit/mcp-requests.js';

/**
 * The decision after a forwarded request's record (mcp-requests.ts): the cases a real gateway
 * cannot reach on demand (a record lost under failMode open, a record that throws).
 */

const CONNECTION = { 'mcp.method.name': 'prompts/get', 'jsonrpc.request.id': '7', 'network.transport': 'pipe', 'tooltrail.mcp.server.name': 'files' };

describe('RequestRecords', () => {
  it('closed: a record not kept refuses the request, saying why; nothing is warned (the agent is told)', async () => {
    const warned: string[] = [];
    const records = new RequestRecords('closed', (m) => warned.push(m));
    expect(await records.record(async () => false, requestEvent(RECORD_MCP_REQUEST, CONNECTION, 'prompts/get', { name: 'brief' }, { name: 'brief' }), 'prompts/get (request 7) to server "files"')).toEqual({
      forward: false,
      reason: 'prompts/get (request 7) to server "files" was not forwarded: its record could not be kept and the gateway\'s audit failMode is closed',
    });
    expect(warned).toEqual([]);
    expect(records.lost).toBe(0);
  });

  it('open: a record not kept lets the request through, counted, warned at the 1st and 10th', async () => {
    const warned: string[] = [];
    const records = new RequestRecords('open', (m) => warned.push(m));
    const event = requestEvent(RECORD_MCP_REQUEST, CONNECTION, 'prompts/get', { name: 'brief' }, { name: 'brief' });
    for (let i = 0; i < 10; i++) expect(await records.record(async () => false, event, 'prompts/get (request 7) to server "files"')).toEqual({ forward: true });
    expect(records.lost).toBe(10);
    expect(warned).toEqual([
      'tooltrail gateway: the record of prompts/get (request 7) to server "files" could not be kept (see the audit warnings); forwarded anyway, audit failMode open (1 so far)',
      'tooltrail gateway: the record of prompts/get (request 7) to server "files" could not be kept (see the audit warnings); forwarded anyway, audit failMode open (10 so far)',
    ]);
    expect(await records.record(async () => true, event, 'x')).toEqual({ forward: true });
    expect(records.lost).toBe(10);
  });

  it('a record that throws (the auditor shut down, the runs closed) refuses the request in either mode', async () => {
    for (const mode of ['open', 'closed'] as const) {
      const records = new RequestRecords(mode, () => undefined);
      const event = requestEvent(RECORD_MCP_SERVER_REQUEST, { ...CONNECTION, 'mcp.method.name': 'sampling/createMessage' }, 'sampling/createMessage', {}, { maxTokens: 1 });
      expect(await records.record(() => Promise.reject(new Error('the connection is closed')), event, 'sampling/createMessage (request 0) of server "files" to the agent')).toEqual({
        forward: false,
        reason: 'sampling/createMessage (request 0) of server "files" to the agent was not forwarded: its record could not be written (the connection is closed)',
      });
    }
  });
});

describe('requestEvent', () => {
  it('names the routing target the agent used, and the params as sent with their size', () => {
    expect(requestEvent(RECORD_MCP_REQUEST, CONNECTION, 'prompts/get', { name: 'files__brief', arguments: { a: 'é' } }, { name: 'brief', arguments: { a: 'é' } })).toEqual({
      kind: 'mcp_request',
      attributes: { ...CONNECTION, 'gen_ai.prompt.name': 'files__brief', 'tooltrail.mcp.params': '{"name":"brief","arguments":{"a":"é"}}', 'tooltrail.mcp.params.bytes': 39 },
    });
    expect(requestEvent(RECORD_MCP_REQUEST, CONNECTION, 'completion/complete', { ref: { type: 'ref/resource', uri: 'file:///{path}' } }, { ref: { type: 'ref/resource', uri: 'file:///{path}' } }).attributes).toMatchObject({ 'mcp.resource.uri': 'file:///{path}' });
    expect(requestEvent(RECORD_MCP_REQUEST, CONNECTION, 'resources/subscribe', { uri: 'file:///etc/shadow' }, { uri: 'file:///etc/shadow' }).attributes).toMatchObject({ 'mcp.resource.uri': 'file:///etc/shadow' });
    // A server's request names no prompt or resource of the agent's: its params are recorded, nothing is read into them.
    const sampling = requestEvent(RECORD_MCP_SERVER_REQUEST, CONNECTION, 'resources/read', {}, { uri: 'file:///x' });
    expect(sampling.attributes?.['mcp.resource.uri']).toBeUndefined();
    expect(requestEvent(RECORD_MCP_SERVER_REQUEST, CONNECTION, 'roots/list', {}, undefined)).toEqual({ kind: 'mcp_server_request', attributes: CONNECTION });
  });
});

describe('failModeOf', () => {
  it("the auditor's own failMode, else the config's, else core's default (closed under strict)", () => {
    const plain = {} as Auditor;
    expect(failModeOf({ failMode: 'closed' } as unknown as Auditor, { failMode: 'open' })).toBe('closed');
    expect(failModeOf(plain, { failMode: 'closed' })).toBe('closed');
    expect(failModeOf(plain, { durability: 'strict' })).toBe('closed');
    expect(failModeOf(plain, { durability: 'buffered' })).toBe('open');
    expect(failModeOf(plain, undefined)).toBe('open');
  });
});
