import { AuditConfigError } from '../contract/errors.js';
import { unknownOptionKeys } from './unknown-option-keys.js';

/** Every key of `T`: the compiler refuses a list that misses one or names another. */
export const optionKeys = <T>(keys: Record<keyof T, true>): readonly string[] => Object.keys(keys);

/** How an adapter's `tools` option (per-tool options) is checked. */
export interface PerToolOptionsCheck {
  /** The valid keys of one tool's options. */
  readonly keys: readonly string[];
  /** The tools that exist, when known at wrap time: an entry naming another tool is an error. */
  readonly names?: readonly string[];
  /** What the entries are keyed by, for the message: `tool key` or `tool name`. */
  readonly keyedBy: string;
}

/**
 * Throws `AuditConfigError` for every unknown key in an adapter's options (their `retry` and
 * `masking` too) and, with `perTool`, in each `tools` entry, naming the nearest valid name: a
 * typo would otherwise be ignored silently, or found only at a tool's first call.
 */
export function checkAdapterOptions(fn: string, options: unknown, valid: readonly string[], perTool?: PerToolOptionsCheck): void {
  if (typeof options !== 'object' || options === null) throw new AuditConfigError(`${fn} options must be an object`);
  const issues = unknownOptionKeys(options, valid);
  const tools = (options as { tools?: unknown }).tools;
  if (perTool !== undefined && tools !== undefined) {
    if (typeof tools !== 'object' || tools === null || Array.isArray(tools)) issues.push(`tools must be an object of per-tool options, by ${perTool.keyedBy}`);
    else {
      // An entry for a tool that is not there would configure nothing.
      if (perTool.names !== undefined) issues.push(...unknownOptionKeys(tools, perTool.names, 'tools.'));
      for (const [name, own] of Object.entries(tools)) {
        if (own === undefined) continue;
        if (typeof own !== 'object' || own === null) issues.push(`tools.${name} must be an object of options`);
        else issues.push(...unknownOptionKeys(own, perTool.keys, `tools.${name}.`));
      }
    }
  }
  if (issues.length > 0) throw new AuditConfigError(`invalid ${fn} options`, issues);
}
