import { once } from 'node:events';
import { createServer } from 'node:net';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTrail, startCollector } from '../src/index.js';
import { cleanup, jsonRequest, post, tempDir } from './helpers.js';

// The library API in-process: what the demo and tests of other packages use.

afterEach(cleanup);

describe('startCollector', () => {
  it('listens, writes, reports stats and closes', async () => {
    const dir = path.join(await tempDir(), 'trail');
    const c = await startCollector({ port: 0, dir });
    expect(c.url).toBe(`http://127.0.0.1:${c.port}`);
    expect(c.tracesUrl).toBe(`${c.url}/v1/traces`);
    expect(c.dir).toBe(dir);
    expect(c.port).toBeGreaterThan(0);
    expect((await post(c.tracesUrl, jsonRequest(4), { 'content-type': 'application/json' })).status).toBe(200);
    expect((await post(c.tracesUrl, 'nope', { 'content-type': 'application/json' })).status).toBe(400);
    expect(c.stats()).toMatchObject({ requests: 1, spans: 4, rejected: 1 });
    expect(c.stats().files).toHaveLength(1);
    await c.close();
    await c.close(); // idempotent
    await expect(fetch(c.tracesUrl, { method: 'POST', body: '{}' })).rejects.toThrow();
    expect((await readTrail(dir)).records).toHaveLength(4);
  });

  it('rejects with EADDRINUSE and creates no folder when the port is taken', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const dir = path.join(await tempDir(), 'never');
    try {
      await expect(startCollector({ port: (blocker.address() as { port: number }).port, dir })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      blocker.close();
    }
  });

  it('rejects when the folder cannot be created', async () => {
    const file = path.join(await tempDir(), 'a-file');
    await writeFile(file, '');
    await expect(startCollector({ port: 0, dir: path.join(file, 'sub') })).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('refuses bad options', async () => {
    await expect(startCollector({ port: 70000 })).rejects.toThrow(RangeError);
    await expect(startCollector({ port: 0, dir: await tempDir(), maxBodyBytes: 0 })).rejects.toThrow(/maxBodyBytes/);
    await expect(startCollector({ port: 0, dir: await tempDir(), maxFileBytes: -1 })).rejects.toThrow(/maxFileBytes/);
  });
});
