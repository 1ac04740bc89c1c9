import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What users install: every package's manifest is checked against its source, and `npm pack`
// of every package is installed in a fresh project outside the repository (from npm's cache
// where it can), where the ESM and CJS builds load and run, `tsc --strict` with NodeNext
// type-checks both, and `npx tooltrail` runs. Needs the built dist (npm test builds first).

const root = path.resolve(import.meta.dirname, '../../..');
const PACKAGES = ['core', 'cli', 'ai-sdk', 'openai-agents', 'langchain', 'mcp', 'gateway'] as const;
type Dir = (typeof PACKAGES)[number];

interface Manifest {
  name: string;
  version: string;
  license?: string;
  repository?: { type?: string; url?: string; directory?: string };
  engines?: { node?: string };
  files?: string[];
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const manifest = (dir: string): Manifest => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
const pkgDir = (d: Dir) => path.join(root, 'packages', d);
/** A dependency as this repository installed it (hoisted to the root node_modules). */
const installedManifest = (name: string): Manifest => manifest(path.join(root, 'node_modules', name));

/** The package a bare specifier names: `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtinModules.includes(name) ? undefined : name;
}

/** Bare packages a source text imports, re-exports, requires or import()s (comments removed). */
function importsOf(text: string): Set<string> {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = new Set<string>();
  const patterns = [/\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s*['"]([^'"]+)['"]/gm];
  for (const re of patterns) for (const m of code.matchAll(re)) {
    const p = packageOf(m[1]!);
    if (p) found.add(p);
  }
  return found;
}

function filesUnder(dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const f = path.join(dir, e);
    if (statSync(f).isDirectory()) out.push(...filesUnder(f, keep));
    else if (keep(f)) out.push(f);
  }
  return out;
}

describe('package manifests', () => {
  const rootManifest = manifest(root);
  const license = readFileSync(path.join(root, 'LICENSE'), 'utf8');

  it('the repository has the Apache-2.0 LICENSE and links the cli bin at the root (npx tooltrail)', () => {
    expect(rootManifest.license).toBe('Apache-2.0');
    expect(license).toContain('Apache License\n                           Version 2.0, January 2004');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(rootManifest.devDependencies?.['@tooltrail/cli']).toBe(manifest(pkgDir('cli')).version);
    // npm links a bin only when its file exists at install time: in a fresh clone dist/ does not,
    // so the bin is a committed file (it runs dist/bin.js).
    const bin = manifest(pkgDir('cli')).bin?.tooltrail ?? '';
    expect(bin.startsWith('./dist/'), `bin ${bin}`).toBe(false);
    expect(statSync(path.join(pkgDir('cli'), bin)).mode & 0o111).not.toBe(0);
  });

  it.each(PACKAGES)('%s: LICENSE, README, repository, engines and files', (d) => {
    const m = manifest(pkgDir(d));
    expect(m.license).toBe('Apache-2.0');
    expect(readFileSync(path.join(pkgDir(d), 'LICENSE'), 'utf8')).toBe(license);
    expect(readFileSync(path.join(pkgDir(d), 'README.md'), 'utf8')).toMatch(new RegExp(`^# ${m.name.replace('/', '\\/')}\\n`));
    expect(m.repository).toMatchObject({ type: 'git', directory: `packages/${d}` });
    expect(m.repository?.url).toBe(manifest(pkgDir('core')).repository?.url);
    expect(m.files).toEqual(expect.arrayContaining(['dist', 'LICENSE', 'README.md']));
    expect(m.engines?.node).toMatch(/^>=\d+/);
  });

  it.each(PACKAGES)('%s: every runtime dependency is imported, every import is declared', (d) => {
    const m = manifest(pkgDir(d));
    const declared = new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
    const imported = new Set<string>();
    for (const f of filesUnder(path.join(pkgDir(d), 'src'), (f) => /\.[cm]?tsx?$/.test(f))) for (const p of importsOf(readFileSync(f, 'utf8'))) imported.add(p);
    imported.delete(m.name);
    expect([...imported].filter((p) => !declared.has(p)).sort(), 'imported but not a dependency or peer dependency').toEqual([]);
    expect(Object.keys(m.dependencies ?? {}).filter((p) => !imported.has(p)).sort(), 'runtime dependencies never imported').toEqual([]);
    // What ships: the built files may only load declared packages (tsup keeps those external).
    const dist = path.join(pkgDir(d), 'dist');
    if (existsSync(dist)) {
      const shipped = new Set<string>();
      for (const f of filesUnder(dist, (f) => /\.(c?js|d\.c?ts)$/.test(f))) for (const p of importsOf(readFileSync(f, 'utf8'))) shipped.add(p);
      shipped.delete(m.name);
      expect([...shipped].filter((p) => !declared.has(p)).sort(), 'dist loads an undeclared package').toEqual([]);
    }
  });

  it('the lock file records every platform’s optional packages (npm 11’s npm ci needs them all)', () => {
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; optionalDependencies?: Record<string, string>; link?: boolean }>;
    };
    const missing: string[] = [];
    for (const [at, entry] of Object.entries(lock.packages)) {
      for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
        // Node's lookup: <at>/node_modules/<dep>, then each enclosing node_modules up to the root.
        let base = at;
        let found = false;
        for (;;) {
          if (lock.packages[`${base ? `${base}/` : ''}node_modules/${dep}`]) {
            found = true;
            break;
          }
          if (!base) break;
          const i = base.lastIndexOf('/node_modules/');
          base = i < 0 ? '' : base.slice(0, i);
        }
        if (!found) missing.push(`${at || '(root)'} -> ${dep}`);
      }
    }
    expect(missing).toEqual([]);
    expect(Object.keys(lock.packages).filter((k) => k.includes('@rollup/rollup-')).length).toBeGreaterThanOrEqual(25);
  });

  it('engines are no looser than the dependencies require', () => {
    // ai 7 and @ai-sdk/*, and openai 7 (under @openai/agents), declare node >= 22.
    expect(manifest(pkgDir('ai-sdk')).engines?.node).toBe('>=22');
    expect(manifest(pkgDir('openai-agents')).engines?.node).toBe('>=22');
    for (const dep of ['ai', '@ai-sdk/provider', 'openai']) {
      const engines = installedManifest(dep).engines?.node ?? '';
      expect(Number(/>=\s*(\d+)/.exec(engines)?.[1] ?? 0), `${dep} engines ${engines}`).toBeLessThanOrEqual(22);
    }
  });
});

// ---------------------------------------------------------------------------------------------

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment for npm and node in the fresh project: nothing from an enclosing `npm run`. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(package|lifecycle|command)/i.test(k) || /^npm_config_(local_prefix|loglevel|workspaces?|include_workspace_root)$/i.test(k)) continue;
    if (k === 'INIT_CWD' || k === 'NODE_OPTIONS' || k.startsWith('VITEST') || k === 'NODE_ENV') continue;
    env[k] = v;
  }
  return env;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<Exec> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: cleanEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

async function ok(cmd: string, args: string[], cwd: string, timeoutMs?: number): Promise<string> {
  const r = await run(cmd, args, cwd, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}


// The peer dependencies the adapters need, at the versions this repository installed, so npm
// finds them in its cache.
const PEERS = ['ai', '@openai/agents', '@langchain/core', '@modelcontextprotocol/sdk', 'zod', '@types/node'];

// A smoke run of the built package: a real audited call through core, and each package's main
// export present; the same list of exports from ESM and CJS.
const SMOKE: Record<Dir, string> = {
  core: 'createAuditor',
  cli: 'spawnCollector',
  'ai-sdk': 'auditAiSdkTools',
  'openai-agents': 'auditedTool',
  langchain: 'auditTool',
  mcp: 'auditMcpClient',
  gateway: 'startGateway',
};

const smokeBody = (load: (name: string) => string) => `
const names = ${JSON.stringify(PACKAGES.map((d) => [`@tooltrail/${d}`, SMOKE[d]]))};
const out = {};
for (const [name, fn] of names) {
  const mod = ${load('name')};
  if (typeof mod[fn] !== 'function') throw new Error(name + ': ' + fn + ' is not a function');
  out[name] = Object.keys(mod).filter((k) => k !== 'default' && k !== '__esModule').sort();
}
const core = ${load("'@tooltrail/core'")};
const spans = [];
const exporter = { export(batch, done) { spans.push(...batch); done({ code: 0 }); }, async shutdown() {} };
const auditor = core.createAuditor({ serviceName: 'pack-check', exporter });
const double = auditor.withAudit(async (a) => a.n * 2, { name: 'double' });
const result = await auditor.run({ principal: { id: 'user:1' } }, () => double({ n: 21 }));
const settled = await auditor.shutdown();
const call = spans.find((s) => s.name === 'execute_tool double');
out.call = { result, settled, outcome: call && call.attributes['tooltrail.outcome'] };
console.log(JSON.stringify(out));
`;

const TYPECHECK = `
import { createAuditor, deny, type AuditorOptions, type ToolCall } from '@tooltrail/core';
import { spawnCollector, type CollectorOptions } from '@tooltrail/cli';
import { auditAiSdkTools } from '@tooltrail/ai-sdk';
import { auditedTool } from '@tooltrail/openai-agents';
import { auditTool } from '@tooltrail/langchain';
import { auditMcpClient } from '@tooltrail/mcp';
import { startGateway } from '@tooltrail/gateway';

const options: AuditorOptions = { serviceName: 'pack-check', endpoint: 'http://127.0.0.1:4318' };
const auditor = createAuditor(options);
const rule = (call: ToolCall) => (call.tool === 'rm' ? deny('no') : undefined);
const double = auditor.withAudit(async (a: { n: number }) => a.n * 2, { name: 'double', policy: [rule] });
export const result: Promise<number> = double({ n: 1 });
export const collectorOptions: CollectorOptions | undefined = undefined;
export const fns: Function[] = [spawnCollector, auditAiSdkTools, auditedTool, auditTool, auditMcpClient, startGateway];
// @ts-expect-error: strict mode catches a wrong argument type through the shipped types
double({ n: 'one' });
`;

describe('npm pack of every package, installed in a fresh project', () => {
  let work = '';
  let app = '';

  beforeAll(async () => {
    for (const d of PACKAGES) {
      for (const f of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) {
        if (!existsSync(path.join(pkgDir(d), 'dist', f))) throw new Error(`packages/${d}/dist/${f} is missing: run \`npm run build\` first`);
      }
    }
    work = await mkdtemp(path.join(tmpdir(), 'tooltrail-pack-'));
    const tarballs = path.join(work, 'tarballs');
    app = path.join(work, 'app');
    await mkdir(tarballs);
    await mkdir(app);

    const packed = JSON.parse(
      await ok('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs, ...PACKAGES.flatMap((d) => ['-w', `packages/${d}`])], root),
    ) as { name: string; filename: string; files: { path: string }[] }[];
    expect(packed.map((p) => p.name).sort()).toEqual(PACKAGES.map((d) => `@tooltrail/${d}`).sort());
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      expect(files, p.name).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']));
      // The cli's bin, and core's policy file schema (docs/policy.md: the file format's JSON Schema).
      const extra = p.name === '@tooltrail/cli' ? ['bin/tooltrail.js'] : p.name === '@tooltrail/core' ? ['schema/policy.schema.json'] : [];
      expect(files).toEqual(expect.arrayContaining(extra));
      expect(files.filter((f) => !f.startsWith('dist/') && !['LICENSE', 'README.md', 'package.json', ...extra].includes(f)), p.name).toEqual([]);
    }

    const tgz = Object.fromEntries(packed.map((p) => [p.name, `file:${path.join(tarballs, path.basename(p.filename))}`]));
    await writeFile(
      path.join(app, 'package.json'),
      JSON.stringify(
        {
          name: 'tooltrail-pack-check',
          version: '0.0.0',
          private: true,
          dependencies: { ...tgz, ...Object.fromEntries(PEERS.map((p) => [p, installedManifest(p).version])) },
          // The adapters' dependency on @tooltrail/core is the tarball too, never a registry's.
          overrides: { '@tooltrail/core': tgz['@tooltrail/core'] },
        },
        null,
        2,
      ),
    );
    await ok('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], app, 120_000);

    await writeFile(path.join(app, 'check.mjs'), smokeBody((n) => `await import(${n})`));
    await writeFile(path.join(app, 'check.cjs'), `(async () => {\n${smokeBody((n) => `require(${n})`)}\n})().catch((e) => { console.error(e); process.exit(1); });\n`);
    await writeFile(path.join(app, 'check.mts'), TYPECHECK);
    await writeFile(path.join(app, 'check.cts'), TYPECHECK);
    // skipLibCheck: some peers' own declarations need the DOM lib or @types they do not depend on.
    await writeFile(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022'], types: ['node'], noEmit: true, skipLibCheck: true },
        files: ['check.mts', 'check.cts'],
      }),
    );
  }, 150_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the installed packages are the tarballs, not copies from anywhere else', () => {
    for (const d of PACKAGES) {
      const dir = path.join(app, 'node_modules', '@tooltrail', d);
      expect(existsSync(path.join(dir, 'package.json')), d).toBe(true);
      expect(manifest(dir).version).toBe(manifest(pkgDir(d)).version);
      expect(existsSync(path.join(dir, 'src')), `${d} ships no src`).toBe(false);
    }
    // One @tooltrail/core, shared by every adapter.
    const nested = PACKAGES.filter((d) => existsSync(path.join(app, 'node_modules', '@tooltrail', d, 'node_modules', '@tooltrail', 'core')));
    expect(nested).toEqual([]);
  });

  const expectSmoke = (stdout: string) => {
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out.call).toEqual({ result: 42, settled: true, outcome: 'ok' });
    for (const d of PACKAGES) expect((out[`@tooltrail/${d}`] as string[]).length, d).toBeGreaterThan(0);
    return out;
  };

  it('ESM import and CJS require of every package load, run a real audited call, and export the same names', async () => {
    const [esm, cjs] = await Promise.all([ok(process.execPath, ['check.mjs'], app), ok(process.execPath, ['check.cjs'], app)]);
    const a = expectSmoke(esm);
    const b = expectSmoke(cjs);
    for (const d of PACKAGES) expect(b[`@tooltrail/${d}`], `${d}: CJS exports = ESM exports`).toEqual(a[`@tooltrail/${d}`]);
  });

  it('tsc --strict (module and moduleResolution NodeNext) type-checks an ESM and a CJS file importing every package', async () => {
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  // --no: never fetch a package of that name if the bin were missing.
  it('npx tooltrail --help runs the installed cli', async () => {
    const r = await run('npx', ['--no', '--', 'tooltrail', '--help'], app);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tooltrail <command>/);
    const v = await run('npx', ['--no', '--', 'tooltrail', '--version'], app);
    expect(v.stdout.trim()).toContain(manifest(pkgDir('cli')).version);
  });
});
