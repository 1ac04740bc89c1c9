/**
 * vitest globalSetup of the pipeline suite (vitest.pipeline.config.ts): fetches or builds what
 * the pipeline runs (scripts/pipeline.sh ensure: the Jaeger v2 binary, Kafka's jars), starts the
 * whole pipeline on fresh data (reset, then start) and stops it afterwards by PID. When anything
 * cannot be fetched, built or started this throws and the run fails: the suite never skips.
 * The pipeline belongs to the suite: one started by hand from this checkout is reset too.
 */
import { pipeline } from './harness.js';

export default function setup(): () => void {
  const t0 = Date.now();
  const what = pipeline('ensure');
  pipeline('reset');
  const t1 = Date.now();
  pipeline('start');
  console.log(`[pipeline] ${what.replace(/\n/g, ', ')}; ensured in ${t1 - t0} ms, started in ${Date.now() - t1} ms`);
  return () => {
    pipeline('stop');
  };
}
