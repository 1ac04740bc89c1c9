import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenTable, parseTokensFile, tokenHash } from '../src/collector/tokens.js';
import { openTrail } from '../src/trail/reader.js';
import { cleanup, jsonRequest, post, runCli, startCliCollector, stopCli, tempDir } from './helpers.js';

// Writers authenticate: a real `tooltrail collect --tokens`, spoken to over HTTP by writers
// with a token, with someone else's, with a made-up one and with none.

afterEach(cleanup);

const JSON_HEADERS = { 'content-type': 'application/json' };

async function tokensFile(dir: string, writers: Record<string, string>): Promise<string> {
  const file = path.join(dir, 'tokens.json');
  const entries = Object.entries(writers).map(([token, writer]) => ({ writer, sha256: tokenHash(token) }));
  writeFileSync(file, JSON.stringify({ version: 1, writers: entries }), { mode: 0o600 });
  return file;
}

async function entries(dir: string) {
  const trail = openTrail(dir);
  const out: { name: string; writer: string | undefined; service: unknown }[] = [];
  for await (const e of trail) out.push({ name: e.record.name, writer: e.writer, service: e.record.resource['service.name'] });
  return { out, trail };
}

describe('tooltrail collect --tokens', () => {
  it('refuses unauthenticated and unknown writers with 401 and a google.rpc.Status, writing nothing of theirs', async () => {
    const work = await tempDir();
    const tokens = await tokensFile(work, { 'tt_agent-a-secret': 'agent-a' });
    const c = await startCliCollector(path.join(work, 'trail'), ['--tokens', tokens]);
    expect(c.stderr()).not.toMatch(/any local process/);

    const none = await post(c.tracesUrl, jsonRequest(2, 'forged'), JSON_HEADERS);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toEqual({ code: 16, message: expect.stringContaining('no authorization header') });

    const wrong = await post(c.tracesUrl, jsonRequest(2, 'forged'), { ...JSON_HEADERS, authorization: 'Bearer tt_guessed' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).message).toContain('not one this collector accepts');
    // The hash itself is not a token: reading the tokens file does not let anyone write.
    const hashAsToken = await post(c.tracesUrl, jsonRequest(1, 'forged'), { ...JSON_HEADERS, authorization: `Bearer ${tokenHash('tt_agent-a-secret')}` });
    expect(hashAsToken.status).toBe(401);
    const basic = await post(c.tracesUrl, jsonRequest(1, 'forged'), { ...JSON_HEADERS, authorization: 'Basic dHQ6YWdlbnQtYQ==' });
    expect(basic.status).toBe(401);

    // Protobuf clients get a protobuf google.rpc.Status: code 16 UNAUTHENTICATED.
    const proto = await fetch(c.tracesUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array([0x0a, 0x00]) });
    expect(proto.status).toBe(401);
    expect(proto.headers.get('www-authenticate')).toBe('Bearer realm="tooltrail"');
    const status = Buffer.from(await proto.arrayBuffer());
    expect([...status.subarray(0, 2)]).toEqual([0x08, 16]);

    const ok = await post(c.tracesUrl, jsonRequest(2, 'real'), { ...JSON_HEADERS, authorization: 'Bearer tt_agent-a-secret' });
    expect(ok.status).toBe(200);
    expect((await stopCli(c)).code).toBe(0);
    const { out, trail } = await entries(c.dir);
    expect(out.map((e) => [e.name, e.writer])).toEqual([
      ['real-0', 'agent-a'],
      ['real-1', 'agent-a'],
    ]);
    expect(trail.problemCount).toBe(0);
  });

  it('records the writer its token names, whatever the spans claim to be', async () => {
    const work = await tempDir();
    const tokens = await tokensFile(work, { 'tt_token-of-a': 'agent-a', 'tt_token-of-b': 'agent-b' });
    const c = await startCliCollector(path.join(work, 'trail'), ['--tokens', tokens]);
    // agent-a pretends to be agent-b: in the resource, in an attribute and in a header.
    const spoof = JSON.parse(jsonRequest(2, 'spoof')) as { resourceSpans: { resource: { attributes: unknown[] } }[] };
    spoof.resourceSpans[0]!.resource.attributes = [
      { key: 'service.name', value: { stringValue: 'agent-b' } },
      { key: 'tooltrail.writer', value: { stringValue: 'agent-b' } },
    ];
    const headers = { ...JSON_HEADERS, authorization: 'Bearer tt_token-of-a', 'x-tooltrail-writer': 'agent-b' };
    expect((await post(c.tracesUrl, JSON.stringify(spoof), headers)).status).toBe(200);
    expect((await post(c.tracesUrl, jsonRequest(1, 'b'), { ...JSON_HEADERS, authorization: 'bearer  tt_token-of-b' })).status).toBe(200);
    await stopCli(c);
    const { out } = await entries(c.dir);
    expect(out).toEqual([
      { name: 'spoof-0', writer: 'agent-a', service: 'agent-b' },
      { name: 'spoof-1', writer: 'agent-a', service: 'agent-b' },
      { name: 'b-0', writer: 'agent-b', service: 'hand-written' },
    ]);
    // The writer is stored by the collector, outside the span's own fields, once per request.
    const text = readFileSync((await openTrailFiles(c.dir))[0]!, 'utf8');
    expect(text.split('\n').filter((l) => l.includes('"t":"resource"')).map((l) => (JSON.parse(l) as { writer: string }).writer)).toEqual(['agent-a', 'agent-b']);
  });

  it('without --tokens: loopback only, and says at start that any local process can write', async () => {
    const work = await tempDir();
    const c = await startCliCollector(path.join(work, 'trail'));
    await new Promise((r) => setTimeout(r, 100));
    expect(c.stderr()).toContain('no --tokens: any local process can write to this trail');
    expect((await post(c.tracesUrl, jsonRequest(1, 'anyone'), JSON_HEADERS)).status).toBe(200);
    await stopCli(c);
    const { out } = await entries(c.dir);
    expect(out).toEqual([{ name: 'anyone-0', writer: undefined, service: 'hand-written' }]);

    for (const host of ['0.0.0.0', '::', '192.0.2.1']) {
      const run = runCli(['collect', '--port', '0', '--dir', path.join(work, 'other'), '--host', host]);
      expect((await run.exited).code).toBe(2);
      expect(run.stderr()).toContain(`refusing to listen on ${host} without writer tokens`);
      expect(run.stdout()).toBe('');
    }
  });

  it('refuses a tokens file that is malformed, lists tokens in clear, or anyone may write', async () => {
    const work = await tempDir();
    const cases: [unknown, RegExp][] = [
      [{ version: 1, writers: [{ writer: 'a', sha256: 'tt_plain-token' }] }, /sha256 must be the SHA-256 of the token in hex/],
      [{ version: 1, writers: [{ writer: 'a', sha256: tokenHash('x'), tokn: 'x' }] }, /unknown key "tokn" \(allowed: writer, sha256, comment\)/],
      [{ version: 1, writer: [] }, /unknown key "writer"; did you mean "writers"\?/],
      [{ version: 2, writers: [] }, /"version" must be 1/],
      [{ version: 1, writers: [] }, /"writers" is empty/],
      [{ version: 1, writers: [{ writer: 'a b', sha256: tokenHash('x') }] }, /writer must be a name/],
      [{ version: 1, writers: [{ writer: 'a', sha256: tokenHash('x') }, { writer: 'b', sha256: tokenHash('x') }] }, /listed twice/],
    ];
    for (const [value, message] of cases) expect(() => parseTokensFile(value)).toThrow(message);

    const file = path.join(work, 'tokens.json');
    writeFileSync(file, JSON.stringify({ version: 1, writers: [{ writer: 'a', sha256: 'nope' }] }), { mode: 0o600 });
    const bad = runCli(['collect', '--port', '0', '--dir', path.join(work, 't'), '--tokens', file]);
    expect((await bad.exited).code).toBe(1);
    expect(bad.stderr()).toContain('writers[0].sha256 must be the SHA-256');

    writeFileSync(file, JSON.stringify({ version: 1, writers: [{ writer: 'a', sha256: tokenHash('x') }] }));
    chmodSync(file, 0o666);
    const open = runCli(['collect', '--port', '0', '--dir', path.join(work, 't'), '--tokens', file]);
    expect((await open.exited).code).toBe(1);
    expect(open.stderr()).toContain('is writable by every user');
  });

  it('keygen --token prints a new token and its entry, and adds it to a tokens file the collector accepts', async () => {
    const work = await tempDir();
    const file = path.join(work, 'tokens.json');
    const made = [];
    for (const writer of ['agent-a', 'agent-b']) {
      const run = runCli(['keygen', '--token', '--writer', writer, '--tokens-file', file]);
      expect((await run.exited).code).toBe(0);
      const token = /^token: {2}(tt_[A-Za-z0-9_-]{43})$/m.exec(run.stdout())![1]!;
      const entry = JSON.parse(/^entry: {2}(.+)$/m.exec(run.stdout())![1]!) as { writer: string; sha256: string };
      expect(entry).toEqual({ writer, sha256: tokenHash(token) });
      made.push(token);
    }
    expect(made[0]).not.toBe(made[1]);
    const parsed = parseTokensFile(JSON.parse(readFileSync(file, 'utf8')));
    expect(parsed.writers.map((w) => w.writer)).toEqual(['agent-a', 'agent-b']);
    expect(readFileSync(file, 'utf8')).not.toContain(made[0]);
    const table = new TokenTable(parsed);
    expect([table.authenticate(`Bearer ${made[1]}`), table.authenticate(`Bearer ${made[0]}x`), table.authenticate(undefined)]).toEqual(['agent-b', undefined, undefined]);

    const c = await startCliCollector(path.join(work, 'trail'), ['--tokens', file]);
    expect((await post(c.tracesUrl, jsonRequest(1, 'k'), { ...JSON_HEADERS, authorization: `Bearer ${made[0]}` })).status).toBe(200);
    await stopCli(c);
    expect((await entries(c.dir)).out.map((e) => e.writer)).toEqual(['agent-a']);

    const noWriter = runCli(['keygen', '--token']);
    expect((await noWriter.exited).code).toBe(2);
    expect(noWriter.stderr()).toContain('--token needs --writer');
  });
});

async function openTrailFiles(dir: string): Promise<readonly string[]> {
  const t = openTrail(dir);
  for await (const _ of t) void _;
  return t.files;
}
