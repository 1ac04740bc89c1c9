import { defineConfig } from 'vitest/config';

// The fast, pure unit tests: no child processes (none started, none killed), no collector, no
// sockets, no tmpfs or file-system faults, no long waits. scripts/node-versions.sh runs this
// subset on every other supported Node version (22 and 24); the whole unit suite, the fault
// suites, Jaeger and the pipeline run once, on Node 20 (.ci/run). A file listed here must stay
// pure: a test that needs a process or a socket goes in a file that is not listed.
export const FAST_UNIT_TESTS = [
  'packages/core/test/app-sdk.test.ts',
  'packages/core/test/config-options.test.ts',
  'packages/core/test/identity.test.ts',
  'packages/core/test/integrity.test.ts',
  'packages/core/test/masking-detectors.test.ts',
  'packages/core/test/masking-options.test.ts',
  'packages/core/test/masking-property.test.ts',
  'packages/core/test/masking-schema-zod.test.ts',
  'packages/core/test/masking-wrapper.test.ts',
  'packages/core/test/policy.test.ts',
  'packages/core/test/retries.test.ts',
  'packages/core/test/span-contract.test.ts',
  'packages/core/test/ugly-values.test.ts',
  'packages/core/test/wrapper.test.ts',
  'packages/cli/test/decoders.test.ts',
  'packages/cli/test/verify-progress.test.ts',
  'packages/cli/test/verify-structures.test.ts',
  'packages/ai-sdk/test/generate-text.test.ts',
  'packages/ai-sdk/test/options.test.ts',
  'packages/ai-sdk/test/stream-text.test.ts',
  'packages/ai-sdk/test/telemetry.test.ts',
  'packages/ai-sdk/test/tools.test.ts',
  'packages/openai-agents/test/approval.test.ts',
  'packages/openai-agents/test/audited-tool.test.ts',
  'packages/openai-agents/test/options.test.ts',
  'packages/langchain/test/agent-loop.test.ts',
  'packages/langchain/test/invoke.test.ts',
  'packages/langchain/test/options.test.ts',
  'packages/mcp/test/in-memory.test.ts',
  'packages/mcp/test/options.test.ts',
];

export default defineConfig({
  test: {
    include: FAST_UNIT_TESTS,
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
