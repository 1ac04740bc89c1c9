#!/usr/bin/env node
// Writes the policy file's JSON Schema, generated from its zod schema (the one definition), to
// packages/core/schema/policy.schema.json and docs/policy.schema.json. It imports TypeScript
// source, so run it with tsx: `npx tsx scripts/policy-schema.mjs` (`--check`: exit 1 when
// either file differs from a fresh generation, writing nothing).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { policyJsonSchema } from '../packages/core/src/policy/file/schema.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_FILES = ['packages/core/schema/policy.schema.json', 'docs/policy.schema.json'];

export function schemaText() {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = schemaText();
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const rel of SCHEMA_FILES) {
    const file = path.join(ROOT, rel);
    let old = '';
    try {
      old = readFileSync(file, 'utf8');
    } catch {}
    if (old === text) continue;
    if (check) {
      console.error(`${rel} differs from the zod schema: run npx tsx scripts/policy-schema.mjs`);
      stale++;
    } else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      console.log(`wrote ${rel}`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}
