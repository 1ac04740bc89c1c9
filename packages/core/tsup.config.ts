import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  // One entry per public path; shared code is split into chunks in both formats, so the entries
  // of one build share one copy of every class and registry.
  entry: {
    index: 'src/index.ts',
    integrity: 'src/entries/integrity.ts',
    semconv: 'src/entries/semconv.ts',
    adapter: 'src/entries/adapter.ts',
    policy: 'src/entries/policy.ts',
  },
  splitting: true,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  define: { __TOOLTRAIL_VERSION__: JSON.stringify(version) },
});
