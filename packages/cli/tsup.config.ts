import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  // One build for both entries: two parallel configs would race on `clean`.
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm', 'cjs'],
  // Types for the library only; the bin has no API.
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  define: { __TOOLTRAIL_VERSION__: JSON.stringify(version) },
});
