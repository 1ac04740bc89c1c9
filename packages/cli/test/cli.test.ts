import http from 'node:http';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTrail } from '../src/trail/reader.js';
import { READY, cleanup, jsonRequest, runCli, startCliCollector, tempDir } from './helpers.js';

afterEach(cleanup);

async function finished(args: string[], cwd?: string) {
  const run = runCli(args, cwd);
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

describe('tooltrail', () => {
  it('--help prints the commands and exits 0', async () => {
    const r = await finished(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tooltrail <command>/);
    expect(r.stdout).toContain('collect');
  });

  it('collect --help prints the flags and exits 0', async () => {
    const r = await finished(['collect', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--host', '--port', '--dir', '--max-file-bytes', '--max-body-bytes']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toMatch(/OpenTelemetry Collector, Jaeger or Grafana Tempo/);
  });

  it('--version prints the package version', async () => {
    const r = await finished(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });

  it('an unknown command prints the usage and exits 2', async () => {
    const r = await finished(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
    expect(r.stderr).toContain('Usage: tooltrail <command>');
    expect(r.stdout).toBe('');
  });

  it('no command prints the usage and exits 2', async () => {
    expect((await finished([])).code).toBe(2);
  });

  it('bad flags print the collect usage and exit 2', async () => {
    for (const args of [['--bogus'], ['--port', 'abc'], ['--port', '70000'], ['--max-file-bytes', '0'], ['extra']]) {
      const r = await finished(['collect', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('Usage: tooltrail collect');
    }
  });
});

describe('tooltrail collect', () => {
  it('prints one ready line with the real port and the absolute folder, default ./audit-trail', async () => {
    const cwd = await tempDir();
    const run = runCli(['collect', '--port', '0'], cwd);
    await once(run.proc.stdout!, 'data');
    const line = run.stdout();
    expect(line.endsWith('\n')).toBe(true);
    const m = READY.exec(line.trimEnd());
    expect(m).not.toBeNull();
    expect(m![1]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/traces$/);
    expect(m![1]).not.toContain(':0/');
    expect(m![2]).toBe(path.join(cwd, 'audit-trail'));
    expect(await readdir(m![2]!)).toEqual([]);
    run.proc.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.stdout()).toBe(line);
  });

  it('exits 1 with a clear message when the port is in use', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await finished(['collect', '--port', String(port), '--dir', await tempDir()]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`tooltrail collect: cannot listen on 127.0.0.1:${port}: the address is already in use (is another collector running? choose another --port)\n`);
    } finally {
      blocker.close();
    }
  });

  it('on SIGTERM finishes the request in flight, acknowledges it, and exits 0 with a complete file', async () => {
    const c = await startCliCollector(await tempDir());
    const body = Buffer.from(jsonRequest(500, 'inflight', 'x'.repeat(100)));
    const url = new URL(c.tracesUrl);
    // Send half the body, signal, then the rest: the request is in flight when SIGTERM lands.
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      // The pause lets the collector parse the headers, so the request is surely in flight.
      req.write(body.subarray(0, body.length / 2), () => {
        setTimeout(() => {
          c.proc.kill('SIGTERM');
          setTimeout(() => req.end(body.subarray(body.length / 2)), 200);
        }, 100);
      });
    });
    expect(await answer).toEqual({ status: 200, body: '{}' });
    expect(await c.exited).toEqual({ code: 0, signal: null });
    expect(c.stderr()).toContain('stopped on SIGTERM; 500 spans from 1 requests written to 1 files');
    const { records, problems, files } = await readTrail(c.dir);
    expect(problems).toEqual([]);
    expect(files).toHaveLength(1);
    expect(records.map((r) => r.name)).toEqual(Array.from({ length: 500 }, (_, i) => `inflight-${i}`));
  });

  it('rotates files at --max-file-bytes', async () => {
    const c = await startCliCollector(await tempDir(), ['--max-file-bytes', '2000']);
    for (let i = 0; i < 4; i++) {
      const res = await fetch(c.tracesUrl, { method: 'POST', body: jsonRequest(3, `r${i}`), headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
    }
    c.proc.kill('SIGTERM');
    await c.exited;
    const { files, records } = await readTrail(c.dir);
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(records).toHaveLength(12);
  });
});
