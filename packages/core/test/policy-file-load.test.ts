/**
 * Loading: parse errors listing every problem, absurd files (huge, deep, wrong types, unknown
 * keys, duplicate keys, aliases), the version hash, detached Ed25519 signatures, reload (a
 * broken file keeps the last good policy and says so; a good one changes the version), and the
 * published JSON Schema equal to a fresh generation.
 */
import { generateKeyPairSync, sign, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditConfigError } from '../src/contract/errors.js';
import { loadFilePolicy, parsePolicyDocument, policyJsonSchema } from '../src/entries/policy.js';

const GOOD = `id: support-agent
default: allow
rules:
  - id: mail-inside-company
    tools: ["send_email"]
    when: "facts.emails.exists(e, e.domain != 'example.com')"
    decide: deny
    reason: mail leaves example.com
`;

const dirs: string[] = [];
const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tooltrail-policy-'));
  dirs.push(d);
  return d;
}
function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(AuditConfigError.isInstance(err)).toBe(true);
    return (err as AuditConfigError).issues;
  }
  throw new Error('expected an AuditConfigError');
}
const warnings = () => {
  const lines: string[] = [];
  return { lines, logger: { warn: (m: string) => lines.push(m) } };
};

describe('parsePolicyDocument', () => {
  it('reads YAML and JSON alike', () => {
    const y = parsePolicyDocument(GOOD, 'yaml');
    const j = parsePolicyDocument(JSON.stringify(y), 'json');
    expect(j).toEqual(y);
    expect(y.rules[0]).toMatchObject({ id: 'mail-inside-company', decide: 'deny' });
  });
  it('lists every problem with where it is; unknown keys are errors', () => {
    const issues = issuesOf(() =>
      parsePolicyDocument(
        JSON.stringify({
          id: 'bad id!',
          default: 'maybe',
          extra: 1,
          rules: [
            { id: 'r', tools: [], decide: 'deny', wehn: 'true' },
            { id: 'rw', tools: ['t'], decide: 'rewrite' },
            { id: 'd', tools: ['t'], decide: 'deny', set: { a: 1 } },
            { id: 'k', tools: ['t'], decide: 'explode' },
            { id: 7, tools: 'x', decide: 'allow' },
          ],
        }),
        'json',
      ),
    );
    const text = issues.join('\n');
    expect(text).toMatch(/^id: must match/m);
    expect(text).toMatch(/^default: /m);
    expect(text).toMatch(/Unrecognized key: "extra"/);
    expect(text).toMatch(/rules\[0\] \(rule r\): Unrecognized key: "wehn"/);
    expect(text).toMatch(/rules\[0\]\.tools \(rule r\): Too small/);
    expect(text).toMatch(/rules\[1\] \(rule rw\): a rewrite rule needs set or remove/);
    expect(text).toMatch(/rules\[2\] \(rule d\): Unrecognized key: "set"/);
    expect(text).toMatch(/rules\[3\]\.decide \(rule k\)/);
    expect(text).toMatch(/rules\[4\]/);
  });
  it('duplicate rule ids and duplicate keys are errors (JSON.parse would keep the last)', () => {
    expect(issuesOf(() => parsePolicyDocument(JSON.stringify({ id: 'p', default: 'allow', rules: [{ id: 'a', tools: ['t'], decide: 'deny' }, { id: 'a', tools: ['t'], decide: 'allow' }] }), 'json')).join()).toMatch(/duplicate rule id a/);
    expect(issuesOf(() => parsePolicyDocument('{"id":"p","default":"deny","default":"allow","rules":[]}', 'json')).join()).toMatch(/duplicate key/);
    expect(issuesOf(() => parsePolicyDocument('id: p\ndefault: deny\ndefault: allow\nrules: []\n', 'yaml')).join()).toMatch(/YAML/);
  });
  it('refuses syntax errors, wrong types, deep nesting and alias bombs', () => {
    expect(issuesOf(() => parsePolicyDocument('{"id":', 'json')).join()).toMatch(/not valid JSON/);
    expect(issuesOf(() => parsePolicyDocument('id: [unclosed', 'yaml')).join()).toMatch(/YAML/);
    expect(issuesOf(() => parsePolicyDocument('[1,2]', 'json')).join()).toMatch(/expected object/);
    expect(issuesOf(() => parsePolicyDocument('"just a string"', 'json')).join()).toMatch(/expected object/);
    expect(issuesOf(() => parsePolicyDocument('', 'yaml')).join()).toMatch(/expected object/);
    const deep = `{"id":"p","default":"allow","rules":[{"id":"r","tools":["t"],"decide":"rewrite","set":{"a":${'['.repeat(100)}${']'.repeat(100)}}}]}`;
    expect(issuesOf(() => parsePolicyDocument(deep, 'json')).join()).toMatch(/nested deeper than 64/);
    const veryDeep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(issuesOf(() => parsePolicyDocument(veryDeep, 'json')).length).toBeGreaterThan(0);
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
    expect(issuesOf(() => parsePolicyDocument(bomb, 'yaml')).length).toBeGreaterThan(0);
    expect(issuesOf(() => parsePolicyDocument('id: p\ndefault: no\nrules: []\n', 'yaml')).join()).toMatch(/default/); // `no` is a string, not false
  });
});

describe('loadFilePolicy', () => {
  it('loads, versions by the bytes, and decides', () => {
    const d = tmp();
    const file = join(d, 'policy.yaml');
    writeFileSync(file, GOOD);
    const p = loadFilePolicy({ path: file, watch: false });
    open.push(p);
    expect(p.id).toBe('support-agent');
    expect(p.version).toBe(`sha256:${createHash('sha256').update(GOOD).digest('hex')}`);
    expect(p.decide({ tool: 'send_email', args: { to: 'a@evil.io' } })).toMatchObject({ kind: 'deny', rule: 'mail-inside-company' });
    expect(p.status()).toMatchObject({ id: 'support-agent', path: file, reloads: 0, reloadFailures: 0, lastError: undefined });
  });
  it('refuses bad options, extensions, missing and huge files', () => {
    const d = tmp();
    expect(issuesOf(() => loadFilePolicy({ path: join(d, 'p.toml') })).join()).toMatch(/\.json, \.yaml or \.yml/);
    expect(issuesOf(() => loadFilePolicy({ path: join(d, 'p.json'), wach: false } as never)).join()).toMatch(/wach/);
    expect(issuesOf(() => loadFilePolicy({ path: join(d, 'missing.json'), watch: false })).join()).toMatch(/ENOENT/);
    writeFileSync(join(d, 'huge.json'), `{"id":"p","default":"allow","rules":[],"description":"${'x'.repeat(2 * 1024 * 1024)}"}`);
    expect(issuesOf(() => loadFilePolicy({ path: join(d, 'huge.json'), watch: false })).join()).toMatch(/at most/);
    writeFileSync(join(d, 'bin.json'), Buffer.from([0xff, 0xfe, 0x00]));
    expect(issuesOf(() => loadFilePolicy({ path: join(d, 'bin.json'), watch: false })).join()).toMatch(/UTF-8/);
  });
});

describe('signatures', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const sigOf = (bytes: string, key = privateKey) => sign(null, Buffer.from(bytes), key).toString('base64');
  function setup(): { file: string; d: string } {
    const d = tmp();
    const file = join(d, 'policy.yaml');
    writeFileSync(file, GOOD);
    return { file, d };
  }
  it('a signature that verifies loads (key as PEM or as a path)', () => {
    const { file, d } = setup();
    writeFileSync(`${file}.sig`, `${sigOf(GOOD)}\n`);
    open.push(loadFilePolicy({ path: file, publicKey: pem, watch: false }));
    writeFileSync(join(d, 'key.pem'), pem);
    open.push(loadFilePolicy({ path: file, publicKey: join(d, 'key.pem'), watch: false }));
    writeFileSync(join(d, 'other.sig'), sigOf(GOOD));
    open.push(loadFilePolicy({ path: file, publicKey: pem, signaturePath: join(d, 'other.sig'), watch: false }));
  });
  it('missing, wrong key, for another file, malformed: refused', () => {
    const { file } = setup();
    expect(issuesOf(() => loadFilePolicy({ path: file, publicKey: pem, watch: false })).join()).toMatch(/missing/);
    writeFileSync(`${file}.sig`, sigOf(GOOD, other.privateKey));
    expect(issuesOf(() => loadFilePolicy({ path: file, publicKey: pem, watch: false })).join()).toMatch(/does not verify/);
    writeFileSync(`${file}.sig`, sigOf(GOOD.replace('deny', 'allow')));
    expect(issuesOf(() => loadFilePolicy({ path: file, publicKey: pem, watch: false })).join()).toMatch(/does not verify/);
    writeFileSync(`${file}.sig`, 'not base64 !!');
    expect(issuesOf(() => loadFilePolicy({ path: file, publicKey: pem, watch: false })).join()).toMatch(/not base64/);
    writeFileSync(`${file}.sig`, Buffer.alloc(10).toString('base64'));
    expect(issuesOf(() => loadFilePolicy({ path: file, publicKey: pem, watch: false })).join()).toMatch(/64/);
  });
  it('a key that is not Ed25519 is a config error', () => {
    const { file } = setup();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(issuesOf(() => loadFilePolicy({ path: file, publicKey: rsa, watch: false })).join()).toMatch(/not Ed25519/);
    expect(issuesOf(() => loadFilePolicy({ path: file, publicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----', watch: false })).join()).toMatch(/not a PEM/);
  });
  it('a reload with a file signed for other bytes keeps the last good policy', () => {
    const { file } = setup();
    writeFileSync(`${file}.sig`, sigOf(GOOD));
    const w = warnings();
    const p = loadFilePolicy({ path: file, publicKey: pem, watch: false }, { logger: w.logger });
    open.push(p);
    const v1 = p.version;
    const changed = GOOD.replace('decide: deny', 'decide: allow');
    writeFileSync(file, changed); // the attacker can write the file, not sign it
    expect(p.reload()).toBe(false);
    expect(p.version).toBe(v1);
    expect(p.decide({ tool: 'send_email', args: { to: 'a@evil.io' } }).kind).toBe('deny');
    expect(p.status()).toMatchObject({ reloadFailures: 1, lastError: expect.stringMatching(/not signed/) });
    writeFileSync(`${file}.sig`, sigOf(changed)); // the security team signs it
    expect(p.reload()).toBe(true);
    expect(p.decide({ tool: 'send_email', args: { to: 'a@evil.io' } }).kind).toBe('allow');
    expect(p.status()).toMatchObject({ reloads: 1, reloadFailures: 1, lastError: undefined });
  });
});

describe('reload', () => {
  const waitFor = async (cond: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  it('a broken file keeps the last good policy and says so; a good one changes the version', async () => {
    const d = tmp();
    const file = join(d, 'policy.yaml');
    writeFileSync(file, GOOD);
    const w = warnings();
    const p = loadFilePolicy({ path: file, pollMs: 50 }, { logger: w.logger });
    open.push(p);
    const v1 = p.version;

    writeFileSync(file, GOOD.replace("e.domain != 'example.com'", 'e.domian != 1'));
    await waitFor(() => p.status().reloadFailures === 1);
    expect(p.version).toBe(v1);
    expect(p.decide({ tool: 'send_email', args: { to: 'a@evil.io' } }).kind).toBe('deny');
    expect(w.lines).toHaveLength(1);
    expect(w.lines[0]).toMatch(/not reloaded; policy support-agent sha256:[0-9a-f]{64} stays in force: .*rule mail-inside-company/);
    expect(p.status().lastError).toMatch(/domian/);

    // An editor's save: write a temp file and rename it over the policy.
    const next = GOOD.replace('example.com', 'example.org');
    writeFileSync(join(d, 'policy.yaml.tmp'), next);
    renameSync(join(d, 'policy.yaml.tmp'), file);
    await waitFor(() => p.version !== v1);
    expect(p.version).toBe(`sha256:${createHash('sha256').update(next).digest('hex')}`);
    expect(p.status()).toMatchObject({ reloads: 1, reloadFailures: 1, lastError: undefined });
    expect(p.decide({ tool: 'send_email', args: { to: 'a@example.org' } }).kind).toBe('allow');

    rmSync(file);
    await waitFor(() => p.status().reloadFailures === 2);
    expect(p.decide({ tool: 'send_email', args: { to: 'a@evil.io' } }).kind).toBe('deny');
    p.close();
    writeFileSync(file, GOOD);
    await new Promise((r) => setTimeout(r, 300));
    expect(p.status().reloads).toBe(1); // closed: no more reloads
  });
  it('the same bytes written again are not a reload', () => {
    const d = tmp();
    const file = join(d, 'p.json');
    const text = JSON.stringify(parsePolicyDocument(GOOD, 'yaml'));
    writeFileSync(file, text);
    const p = loadFilePolicy({ path: file, watch: false });
    writeFileSync(file, text);
    expect(p.reload()).toBe(false);
    expect(p.status()).toMatchObject({ reloads: 0, reloadFailures: 0 });
  });
});

describe('published JSON Schema', () => {
  it('both copies equal a fresh generation from the zod schema', () => {
    const fresh = `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
    const root = join(__dirname, '..', '..', '..');
    expect(readFileSync(join(root, 'packages/core/schema/policy.schema.json'), 'utf8')).toBe(fresh);
    expect(readFileSync(join(root, 'docs/policy.schema.json'), 'utf8')).toBe(fresh);
  });
});
