/**
 * The approval command hook: the configured command is spawned (no shell: `command[0]` with the
 * rest as arguments), sent the request as one JSON document on stdin, and answers one JSON
 * document on stdout. A non-zero exit, a death by signal, a malformed answer or an answer
 * larger than 64 KiB throws (core denies the call and records the failure); at the deadline
 * (the request's AbortSignal) the hook is killed with SIGKILL, its whole process group on
 * POSIX, and the call is denied. The hook runs with a minimal environment plus the config's
 * `env`, in the config's `cwd`.
 */
import { spawn } from 'node:child_process';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ApprovalAnswer, ApprovalHandler, ApprovalRequest } from '@tooltrail/core';
import { MAX_ANSWER_BYTES, parseAnswer, wireRequest } from './approval-protocol.js';

export interface CommandApproverOptions {
  /** argv: the program and its arguments. */
  command: readonly string[];
  /**
   * Added to the hook's minimal environment: the SDK's default one (`PATH`, `HOME`, `USER`,
   * `LOGNAME`, `SHELL`, `TERM`; their Windows counterparts), never the gateway's whole
   * environment, which holds the gateway's own secrets (audit token, mask and signing keys).
   */
  env?: Readonly<Record<string, string>> | undefined;
  /** Working directory (the loader resolves it against the config's folder); default the gateway's. */
  cwd?: string | undefined;
}

const STDERR_KEEP = 2048;

function killTree(pid: number | undefined, kill: () => void): void {
  if (pid !== undefined && process.platform !== 'win32') {
    try {
      process.kill(-pid, 'SIGKILL');
      return;
    } catch {
      // the group is gone, or was never one: kill the child itself
    }
  }
  kill();
}

export function commandApprover(options: CommandApproverOptions): ApprovalHandler {
  const [program, ...args] = options.command;
  if (program === undefined || program === '') throw new TypeError('approval.command needs a program');
  const label = `approval command ${program}`;
  return (request: ApprovalRequest): Promise<ApprovalAnswer> =>
    new Promise<ApprovalAnswer>((resolvePromise, rejectPromise) => {
      const signal = request.signal;
      if (signal.aborted) {
        rejectPromise(new Error(`${label} was not started: the approval deadline had passed`));
        return;
      }
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const child = spawn(program, args, {
        shell: false,
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group, so a deadline kills what the hook started too.
        detached: process.platform !== 'win32',
        windowsHide: true,
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
        env: { ...getDefaultEnvironment(), ...(options.env ?? {}) },
      });
      const kill = (): void => killTree(child.pid, () => child.kill('SIGKILL'));
      function onAbort(): void {
        kill();
        settle(() => rejectPromise(new Error(`${label} did not answer before the approval deadline; it was killed`)));
      }
      signal.addEventListener('abort', onAbort, { once: true });

      const out: Buffer[] = [];
      let outBytes = 0;
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => {
        outBytes += chunk.length;
        if (outBytes > MAX_ANSWER_BYTES) {
          kill();
          settle(() => rejectPromise(new Error(`${label} answered more than ${MAX_ANSWER_BYTES} bytes; it was killed`)));
          return;
        }
        out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        err = (err + chunk.toString('utf8')).slice(-STDERR_KEEP);
      });
      child.on('error', (e) => settle(() => rejectPromise(new Error(`${label} could not run: ${e.message}`))));
      child.on('close', (code, sig) => {
        settle(() => {
          if (code !== 0) {
            const how = sig !== null ? `was killed by ${sig}` : `exited with code ${String(code)}`;
            rejectPromise(new Error(`${label} ${how}${err.trim() !== '' ? `: ${err.trim()}` : ''}`));
            return;
          }
          try {
            resolvePromise(parseAnswer(Buffer.concat(out).toString('utf8'), label));
          } catch (e) {
            rejectPromise(e);
          }
        });
      });
      // A hook that exits without reading its stdin must not crash the gateway (EPIPE).
      child.stdin.on('error', () => {});
      child.stdin.end(`${JSON.stringify(wireRequest(request))}\n`);
    });
}
