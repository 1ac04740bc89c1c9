#!/usr/bin/env node
// The import graph of each package's src/: file-level cycles, and imports that point up the
// layer table below (a lower layer must never import a higher one, nor a sibling layer).
// `node scripts/import-graph.mjs` prints every violation and exits 1 if there is one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Layers of @tooltrail/core, lowest first: a file may import its own folder or a lower rank.
 * Folders of equal rank are siblings and may not import each other.
 */
export const CORE_LAYERS = {
  contract: 0,
  files: 0,
  tracing: 1,
  payload: 1,
  'payload/masking/catalog': 2,
  'payload/masking': 3,
  identity: 2,
  policy: 3,
  integrity: 2,
  export: 3,
  'export/wire': 2,
  call: 4,
  auditor: 5,
  adapter: 6,
  entries: 7,
  // The root entry re-exports the subpath entries.
  '.': 8,
};

/** Layers of @tooltrail/gateway (docs/architecture.md, "The gateway's layers"). */
export const GATEWAY_LAYERS = {
  shared: 0,
  config: 1,
  identity: 1,
  pins: 1,
  audit: 1,
  transport: 1,
  boundary: 2,
  proxy: 3,
  // gateway.ts (the facade) and index.ts.
  '.': 4,
};

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function tsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** file -> the files it imports (relative imports only), for one package's src/. */
export function importGraph(srcDir) {
  const graph = new Map();
  for (const file of tsFiles(srcDir)) {
    const text = readFileSync(file, 'utf8');
    const deps = new Set();
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
      deps.add(target);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the list of files on it. */
export function cycles(graph) {
  const found = [];
  const state = new Map();
  const stack = [];
  const visit = (f) => {
    state.set(f, 1);
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (!graph.has(d)) continue;
      if (state.get(d) === 1) found.push(stack.slice(stack.indexOf(d)).concat(d));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

function layerOf(srcDir, file, layers) {
  const rel = path.relative(srcDir, path.dirname(file)).split(path.sep).join('/') || '.';
  let best;
  for (const name of Object.keys(layers)) {
    if ((rel === name || rel.startsWith(`${name}/`)) && (best === undefined || name.length > best.length)) best = name;
  }
  if (best === undefined && rel === '.') best = '.';
  return best;
}

/** Imports that go up (or sideways) the layer table, and files in no layer. */
export function layerViolations(srcDir, graph, layers) {
  const out = [];
  for (const [file, deps] of graph) {
    const from = layerOf(srcDir, file, layers);
    if (from === undefined) {
      out.push(`${path.relative(ROOT, file)}: in no layer (add its folder to the layer table)`);
      continue;
    }
    for (const dep of deps) {
      const to = layerOf(srcDir, dep, layers);
      if (to === undefined || to === from) continue;
      if (layers[to] >= layers[from]) {
        out.push(`${path.relative(ROOT, file)} (${from}, rank ${layers[from]}) imports ${path.relative(ROOT, dep)} (${to}, rank ${layers[to]})`);
      }
    }
  }
  return out;
}

/** Every problem in the repository's packages. */
export function checkRepository() {
  const problems = [];
  for (const pkg of readdirSync(path.join(ROOT, 'packages'))) {
    const src = path.join(ROOT, 'packages', pkg, 'src');
    try {
      statSync(src);
    } catch {
      continue;
    }
    const graph = importGraph(src);
    for (const c of cycles(graph)) problems.push(`cycle: ${c.map((f) => path.relative(ROOT, f)).join(' -> ')}`);
    for (const [file, deps] of graph) for (const d of deps) if (!graph.has(d)) problems.push(`${path.relative(ROOT, file)} imports ${path.relative(ROOT, d)}, which is not in its package's src/`);
    if (pkg === 'core') problems.push(...layerViolations(src, graph, CORE_LAYERS));
    if (pkg === 'gateway') problems.push(...layerViolations(src, graph, GATEWAY_LAYERS));
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkRepository();
  for (const p of problems) console.log(p);
  console.log(problems.length === 0 ? 'import graph: no cycles, no upward imports' : `import graph: ${problems.length} problem(s)`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
