/**
 * vitest globalSetup of the Jaeger suite (vitest.jaeger.config.ts): builds Jaeger if needed and
 * starts it with scripts/jaeger.sh, and stops it afterwards by its PID. When Jaeger cannot be
 * built or started this throws, and the run fails: the suite never skips.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const script = fileURLToPath(new URL('../../../../scripts/jaeger.sh', import.meta.url));

function jaeger(command: 'ensure' | 'start' | 'stop' | 'status'): string {
  try {
    // stderr goes to the terminal: build progress, the log tail when start-up fails.
    return execFileSync('bash', [script, command], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' }).trim();
  } catch (err) {
    const status = (err as { status?: number | null }).status;
    throw new Error(
      `scripts/jaeger.sh ${command} failed (exit ${status ?? 'signal'}): the Jaeger integration suite cannot run without a real Jaeger. ` +
        'See the output above, and docs/jaeger.md.',
    );
  }
}

function running(): boolean {
  try {
    execFileSync('bash', [script, 'status'], { cwd: root, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default function setup(): () => void {
  const bin = jaeger('ensure');
  // A Jaeger someone started by hand (scripts/jaeger.sh start) is used and left running.
  const startedHere = !running();
  jaeger('start');
  console.log(`[jaeger] ${bin} is up on 127.0.0.1 (OTLP/HTTP 4318, query 16686)${startedHere ? '' : ', started earlier; leaving it running'}`);
  return () => {
    if (startedHere) jaeger('stop');
  };
}
