import { AuditConfigError } from '../contract/errors.js';
import { defaultRefusalMessage, isDenial, type RefusedCall } from '../contract/refusal.js';
import type { Auditor } from '../auditor/auditor.js';
import { warnDeprecatedOption } from './deprecation.js';

/** What a refused call gives the framework: a tool error result the model reads, or the error thrown. */
export type RefusalMode = 'result' | 'throw';

/** The options every adapter takes, under the same names and with the same meaning. */
export interface AdapterOptions {
  /** The auditor that records the calls. Default: the process default auditor, looked up at each call. */
  auditor?: Auditor;
  /**
   * A call tooltrail refused before its body ran (denied by policy or a person, or arguments
   * the schema rejects). `result` (default): the framework's tool error result, with the text
   * of `formatRefusal`, so the agent loop carries on. `throw`: the `AuditDeniedError` or
   * `AuditValidationError` is thrown (some adapters wrap it in the framework's own error type).
   */
  onRefusal?: RefusalMode;
  /** The text the model reads for a refused call. Default: `defaultRefusalMessage`. */
  formatRefusal?: (refusal: RefusedCall) => string;
}

/** The keys of AdapterOptions, for an adapter's unknown-key check. */
export const ADAPTER_OPTION_KEYS: readonly string[] = ['auditor', 'onRefusal', 'formatRefusal'];

/**
 * The per-kind refusal options some adapters had before `onRefusal` (`message` meant `result`).
 * Still accepted, each with a one-time deprecation warning, and alone they mean exactly what
 * they did (`onDenied: 'throw'` throws denials, invalid calls stay results). Beside an
 * `onRefusal` that says otherwise they are an AuditConfigError: neither silently wins.
 */
export interface DeprecatedRefusalOptions {
  /** @deprecated Use `onRefusal`. */
  onDenied?: 'message' | 'result' | 'throw';
  /** @deprecated Use `onRefusal`. */
  onInvalid?: 'message' | 'result' | 'throw';
}

export const DEPRECATED_REFUSAL_OPTION_KEYS: readonly string[] = ['onDenied', 'onInvalid'];

/** How one adapter instance answers a refused call, resolved once from its options. */
export interface RefusalHandling {
  readonly denied: RefusalMode;
  readonly invalid: RefusalMode;
  /** The mode for this refusal's kind. */
  modeFor(refusal: RefusedCall): RefusalMode;
  /** The text the model reads for it. */
  format(refusal: RefusedCall): string;
  /** True when the app gave `formatRefusal`: an adapter with its own default text keeps that otherwise. */
  readonly customFormat: boolean;
}

function mode(value: unknown, option: string, fn: string, legacy: boolean): RefusalMode | undefined {
  if (value === undefined) return undefined;
  if (value === 'result' || value === 'throw') return value;
  if (legacy && value === 'message') return 'result';
  const valid = legacy ? "'result' (or 'message') or 'throw'" : "'result' or 'throw'";
  throw new AuditConfigError(`${fn}: \`${option}\` must be ${valid}, got ${JSON.stringify(value) ?? String(value)}`);
}

/**
 * Resolves `onRefusal`, `formatRefusal` and the deprecated `onDenied`/`onInvalid` of an
 * adapter's options. `adapter` names it in messages and deprecation warnings
 * (`@tooltrail/langchain`); `fn` is the entry point (`auditLangChainTool()`).
 */
export function refusalHandling(options: AdapterOptions & DeprecatedRefusalOptions, adapter: string, fn: string): RefusalHandling {
  const given = mode(options.onRefusal, 'onRefusal', fn, false);
  const common = given ?? 'result';
  const legacy = (key: 'onDenied' | 'onInvalid'): RefusalMode | undefined => {
    const value = mode(options[key], key, fn, true);
    // Two answers to one question: neither may silently win.
    if (value !== undefined && given !== undefined && value !== given) {
      throw new AuditConfigError(
        `${fn}: \`${key}\` (deprecated) and \`onRefusal\` disagree (${JSON.stringify(options[key])} against ${JSON.stringify(given)}); set \`onRefusal\` only`,
      );
    }
    if (value !== undefined) warnDeprecatedOption(options, `${adapter} option \`${key}\``, '`onRefusal`');
    return value;
  };
  const denied = legacy('onDenied') ?? common;
  const invalid = legacy('onInvalid') ?? common;
  const formatter = options.formatRefusal;
  if (formatter !== undefined && typeof formatter !== 'function') throw new AuditConfigError(`${fn}: \`formatRefusal\` must be a function`);
  return {
    denied,
    invalid,
    modeFor: (refusal) => (isDenial(refusal) ? denied : invalid),
    format: (refusal) => (formatter ?? defaultRefusalMessage)(refusal),
    customFormat: formatter !== undefined,
  };
}
