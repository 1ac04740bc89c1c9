import { defineConfig } from 'vitest/config';

// `npm run test:jaeger`: the integration suite against a real Jaeger v2 (scripts/jaeger.sh),
// which the global setup builds if needed, starts on 127.0.0.1 and stops afterwards.
// The unit suite (vitest.config.ts) excludes these files.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.jaeger.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['packages/core/test/jaeger/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One Jaeger for every file; each test uses its own service name, so files cannot see
    // each other's spans, but a single worker keeps the load on Jaeger predictable.
    fileParallelism: false,
  },
});
