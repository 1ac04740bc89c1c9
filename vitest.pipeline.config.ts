import { defineConfig } from 'vitest/config';

// `npm run test:pipeline`: the production pipeline on loopback (scripts/pipeline.sh: collector
// tier -> Kafka, three nodes -> ingester -> Jaeger with Badger), with each piece killed under
// load. The global setup fetches/builds what it needs, starts the pipeline on fresh data and
// stops it afterwards. The unit suite (vitest.config.ts) never sees these files: they live
// outside packages/*/test and are named *.pipeline.test.ts.
export default defineConfig({
  test: {
    include: ['test/pipeline/**/*.pipeline.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['test/pipeline/global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One pipeline, killed piece by piece: the scenarios run one after the other.
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
