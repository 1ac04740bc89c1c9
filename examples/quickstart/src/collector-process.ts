import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface CollectorProcess {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

const cliBin = path.join(path.dirname(createRequire(import.meta.url).resolve('@tooltrail/cli/package.json')), 'dist', 'bin.js');

async function tryStart(port: number, dir: string): Promise<CollectorProcess | undefined> {
  const proc: ChildProcess = spawn(process.execPath, [cliBin, 'collect', '--port', String(port), '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errors: string[] = [];
  proc.stderr!.on('data', (c: Buffer) => errors.push(c.toString()));
  const lines = createInterface({ input: proc.stdout! });
  const ready = new Promise<string | undefined>((resolve) => {
    lines.once('line', resolve);
    proc.once('exit', () => resolve(undefined));
  });
  const line = await ready;
  if (line === undefined) {
    if (port !== 0) return undefined; // port taken: the caller falls back to a free one
    throw new Error(`tooltrail collect did not start: ${errors.join('')}`);
  }
  const m = /listening on (http:\/\/[^/]+)\/v1\/traces, writing to (.+)$/.exec(line);
  if (!m) throw new Error(`unexpected output from tooltrail collect: ${line}`);
  return {
    url: m[1] as string,
    dir: m[2] as string,
    stop: async () => {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    },
  };
}

/** Starts `tooltrail collect` as its own process: the record lives outside the agent. */
export async function startCollectorProcess(dir: string): Promise<CollectorProcess> {
  return (await tryStart(4318, dir)) ?? (await tryStart(0, dir)) as CollectorProcess;
}
