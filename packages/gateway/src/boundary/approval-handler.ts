/**
 * The gateway's approval handler, from the config's `approval` section: a command hook
 * (`{ command: [...] }`) or an HTTP endpoint (`{ url }`). Its deadline is core's
 * (`createAuditor({ approval: { timeoutMs, handler } })`: the request's AbortSignal); a handler
 * here only honours that signal.
 */
import { AuditConfigError, type ApprovalHandler } from '@tooltrail/core';
import { commandApprover } from './command-approver.js';
import { httpApprover } from './http-approver.js';

/** The config's `approval` section (structurally what part A's schema yields). */
export type ApprovalConfig =
  | { command: readonly string[]; timeoutMs?: number | undefined; env?: Readonly<Record<string, string>> | undefined; cwd?: string | undefined }
  | { url: string; timeoutMs?: number | undefined; headers?: Readonly<Record<string, string>> | undefined };

/** Undefined without an `approval` section: an `ask` is then denied (no approver is configured). */
export function approvalHandlerFrom(config: ApprovalConfig | undefined): ApprovalHandler | undefined {
  if (config === undefined) return undefined;
  try {
    if ('command' in config && 'url' in config) throw new TypeError('approval takes command or url, not both');
    if ('command' in config) {
      if (!Array.isArray(config.command) || config.command.length === 0 || config.command.some((a) => typeof a !== 'string')) {
        throw new TypeError('approval.command must be a non-empty array of strings (argv; no shell)');
      }
      return commandApprover({ command: config.command, env: config.env, cwd: config.cwd });
    }
    if ('url' in config && typeof config.url === 'string') return httpApprover({ url: config.url, headers: config.headers });
    throw new TypeError('approval needs command (argv) or url');
  } catch (err) {
    throw new AuditConfigError('invalid approval config', [err instanceof Error ? err.message : String(err)]);
  }
}
