import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditConfigError, ask, createAuditor, type ApprovalHandler, type ApprovalRequest } from '@tooltrail/core';
import { approvalHandlerFrom } from '../src/boundary/approval-handler.js';
import { isAlive } from './fixtures/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'tt-approval-'));
const capture = join(dir, 'request.json');
const pidFile = join(dir, 'pids.txt');

const READ_STDIN = `let s='';process.stdin.setEncoding('utf8');process.stdin.on('data',(d)=>s+=d);process.stdin.on('end',()=>{main(s)});`;
const hooks: Record<string, string> = {
  approve: `${READ_STDIN} function main(s){require('node:fs').writeFileSync(${JSON.stringify(capture)}, s); process.stdout.write(JSON.stringify({decision:'approved',by:'user:alice',reason:'looks fine'}));}`,
  reject: `${READ_STDIN} function main(){process.stdout.write(JSON.stringify({decision:'rejected',by:'user:bob',reason:'not today'}));}`,
  garbage: `${READ_STDIN} function main(){process.stdout.write('yes please');}`,
  extra: `${READ_STDIN} function main(){process.stdout.write(JSON.stringify({decision:'approved',by:'user:alice',admin:true}));}`,
  fail: `${READ_STDIN} function main(){process.stdout.write(JSON.stringify({decision:'approved',by:'user:alice'}));process.stderr.write('approver backend down');process.exit(3);}`,
  // Ignores SIGTERM, starts a grandchild, never answers: only a kill of the group ends both.
  hang: `process.on('SIGTERM',()=>{});const c=require('node:child_process').spawn(process.execPath,['-e','setInterval(()=>{},1000)'],{stdio:'ignore'});require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, process.pid+' '+c.pid);setInterval(()=>{},1000);`,
};
for (const [name, code] of Object.entries(hooks)) writeFileSync(join(dir, `${name}.cjs`), code);
const hook = (name: string) => approvalHandlerFrom({ command: [process.execPath, join(dir, `${name}.cjs`)] }) as ApprovalHandler;

function request(signal: AbortSignal = new AbortController().signal): ApprovalRequest {
  return {
    tool: 'transfer',
    callId: 'call-7',
    args: { amount: 5000, iban: 'DE89370400440532013000' },
    argsMasked: '{"amount":5000,"iban":"[REDACTED:iban]"}',
    rule: 'large-transfer',
    reason: 'over 1000',
    run: { runId: 'run-1', parentRunId: undefined, principal: { id: 'user:42', type: 'user' }, agent: { name: 'bot' }, conversationId: undefined, attributes: {} },
    policy: { id: 'payments', version: 'sha256:00' },
    signal,
  };
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

let server: Server;
let base = '';
const sockets = new Set<Socket>();
let received: unknown;
beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      if (req.url === '/approve') {
        received = { method: req.method, type: req.headers['content-type'], auth: req.headers['authorization'], body: JSON.parse(body) };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ decision: 'approved', by: 'approver:svc' }));
      } else if (req.url === '/reject') res.writeHead(200).end(JSON.stringify({ decision: 'rejected', by: 'user:bob' }));
      else if (req.url === '/500') res.writeHead(500).end(JSON.stringify({ decision: 'approved', by: 'user:alice' }));
      else if (req.url === '/garbage') res.writeHead(200).end('<html>ok</html>');
      else if (req.url === '/redirect') res.writeHead(302, { location: '/approve' }).end();
      // /slow: never answers
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
  if (existsSync(pidFile)) for (const pid of readFileSync(pidFile, 'utf8').split(' ').map(Number)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
const endpoint = (path: string) => approvalHandlerFrom({ url: `${base}${path}`, headers: { authorization: 'Bearer test-approver' } }) as ApprovalHandler;

describe('approvalHandlerFrom: config', () => {
  it('no approval section: no handler; a bad section: AuditConfigError', () => {
    expect(approvalHandlerFrom(undefined)).toBeUndefined();
    expect(() => approvalHandlerFrom({ command: [] })).toThrow(AuditConfigError);
    expect(() => approvalHandlerFrom({ url: 'file:///etc/passwd' })).toThrow(/http or https/);
    expect(() => approvalHandlerFrom({ command: ['x'], url: 'http://x' } as never)).toThrow(/not both/);
  });
});

describe('approval command hook', () => {
  it('approved: gets the masked request as JSON on stdin, answers on stdout', async () => {
    await expect(hook('approve')(request())).resolves.toEqual({ decision: 'approved', by: 'user:alice', reason: 'looks fine' });
    const sent = JSON.parse(readFileSync(capture, 'utf8')) as Record<string, unknown>;
    expect(sent).toEqual({
      tool: 'transfer',
      callId: 'call-7',
      arguments: { amount: 5000, iban: '[REDACTED:iban]' },
      rule: 'large-transfer',
      reason: 'over 1000',
      principal: { id: 'user:42', type: 'user' },
      agent: { name: 'bot' },
      runId: 'run-1',
      policy: { id: 'payments', version: 'sha256:00' },
    });
    expect(readFileSync(capture, 'utf8')).not.toContain('DE89370400440532013000');
  });

  it('rejected is an answer, not an error', async () => {
    await expect(hook('reject')(request())).resolves.toEqual({ decision: 'rejected', by: 'user:bob', reason: 'not today' });
  });

  it('garbage, unknown keys, a non-zero exit or a missing program throw', async () => {
    await expect(hook('garbage')(request())).rejects.toThrow(/not JSON/);
    await expect(hook('extra')(request())).rejects.toThrow(/unknown key "admin"/);
    await expect(hook('fail')(request())).rejects.toThrow(/exited with code 3: approver backend down/);
    const missing = approvalHandlerFrom({ command: [join(dir, 'no-such-program')] }) as ApprovalHandler;
    await expect(missing(request())).rejects.toThrow(/could not run/);
  });

  it('a hook that hangs past the deadline is killed, its children too, and the call is denied', async () => {
    const deadline = new AbortController();
    const pending = hook('hang')(request(deadline.signal));
    expect(await waitFor(() => existsSync(pidFile), 10_000)).toBe(true);
    setTimeout(() => deadline.abort(), 100);
    await expect(pending).rejects.toThrow(/did not answer before the approval deadline; it was killed/);
    const pids = readFileSync(pidFile, 'utf8').split(' ').map(Number);
    expect(pids).toHaveLength(2);
    expect(await waitFor(() => pids.every((p) => !isAlive(p)), 5_000)).toBe(true);
  });

  it('through core: approved runs the tool; rejected, garbage and a crash deny it, recorded', async () => {
    for (const [name, ran, outcome] of [
      ['approve', 1, 'ok'],
      ['reject', 0, 'denied'],
      ['garbage', 0, 'denied'],
      ['fail', 0, 'denied'],
    ] as const) {
      const exporter = new InMemorySpanExporter();
      const auditor = createAuditor({
        serviceName: 'gw-approval',
        exporter,
        logger: { warn: () => {} },
        exportQueue: { flushIntervalMs: 1 },
        approval: { handler: hook(name), timeoutMs: 10_000 },
      });
      let runs = 0;
      const transfer = auditor.withAudit(async (_a: { amount: number }) => ++runs, { name: 'transfer', policy: [() => ask('over 1000', { rule: 'large-transfer' })] });
      const result = auditor.run({ principal: { id: 'user:42' } }, () => transfer({ amount: 5000 }));
      if (ran === 1) await expect(result).resolves.toBe(1);
      else await expect(result).rejects.toMatchObject({ code: 'TOOLTRAIL_DENIED', rule: 'tooltrail.approval' });
      expect(runs, name).toBe(ran);
      expect(await auditor.flush(5000)).toBe(true);
      const span = exporter.getFinishedSpans().find((s) => s.name === 'execute_tool transfer');
      expect(span?.attributes['tooltrail.outcome'], name).toBe(outcome);
      await auditor.shutdown(2000);
    }
  });
});

describe('approval HTTP endpoint', () => {
  it('approved: POSTs the masked request as JSON with the configured headers', async () => {
    await expect(endpoint('/approve')(request())).resolves.toEqual({ decision: 'approved', by: 'approver:svc' });
    expect(received).toMatchObject({ method: 'POST', type: 'application/json', auth: 'Bearer test-approver', body: { tool: 'transfer', arguments: { iban: '[REDACTED:iban]' } } });
    await expect(endpoint('/reject')(request())).resolves.toEqual({ decision: 'rejected', by: 'user:bob' });
  });

  it('a non-2xx status (even with an approving body), garbage or a redirect throws', async () => {
    await expect(endpoint('/500')(request())).rejects.toThrow(/HTTP 500/);
    await expect(endpoint('/garbage')(request())).rejects.toThrow(/not JSON/);
    await expect(endpoint('/redirect')(request())).rejects.toThrow(/could not be reached/);
  });

  it('a slow endpoint is aborted at the deadline', async () => {
    const deadline = new AbortController();
    setTimeout(() => deadline.abort(), 150);
    const started = Date.now();
    await expect(endpoint('/slow')(request(deadline.signal))).rejects.toThrow(/did not answer before the approval deadline; the request was aborted/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
