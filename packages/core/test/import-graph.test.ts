import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, no types of its own
import { checkRepository, cycles, importGraph, layerViolations, CORE_LAYERS } from '../../../scripts/import-graph.mjs';

describe('the import graph', () => {
  it('has no cycle in any package and no import up (or across) the core layer table', () => {
    expect(checkRepository()).toEqual([]);
  });

  it('finds a planted cycle and a planted upward import', () => {
    const src = mkdtempSync(path.join(tmpdir(), 'graph-'));
    mkdirSync(path.join(src, 'contract'));
    mkdirSync(path.join(src, 'call'));
    writeFileSync(path.join(src, 'contract', 'a.ts'), "import { b } from '../call/b.js';\nexport const a = 1;\n");
    writeFileSync(path.join(src, 'call', 'b.ts'), "import { a } from '../contract/a.js';\nexport const b = a;\n");
    const graph = importGraph(src) as Map<string, Set<string>>;
    expect((cycles(graph) as string[][]).length).toBe(1);
    const up = layerViolations(src, graph, CORE_LAYERS) as string[];
    expect(up).toHaveLength(1);
    expect(up[0]).toMatch(/contract\/a\.ts \(contract, rank 0\) imports .*call\/b\.ts \(call, rank 4\)/);
  });
});
