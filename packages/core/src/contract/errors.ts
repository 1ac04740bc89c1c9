// Brands are global symbols, so an error thrown by core's ESM build is recognised by code that
// loaded the CJS build (or another copy of core), where `instanceof` says false.
const brandOf = (name: string): symbol => Symbol.for(`tooltrail.error.${name}`);
const BASE = brandOf('AuditError');
const DENIED = brandOf('AuditDeniedError');
const INVALID = brandOf('AuditValidationError');
const CONFIG = brandOf('AuditConfigError');
const UNAVAILABLE = brandOf('AuditUnavailableError');

function branded(value: unknown, brand: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

function brand(target: object, symbol: symbol): void {
  Object.defineProperty(target, symbol, { value: true, enumerable: false });
}

/** Base of every error tooltrail throws itself. `code` is stable; messages may change. */
export class AuditError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    brand(this, BASE);
  }

  /** True for an AuditError from any build or copy of @tooltrail/core (unlike `instanceof`). */
  static isInstance(value: unknown): value is AuditError {
    return branded(value, BASE);
  }
}

/** Policy denied the call before it ran. The tool body never executed. */
export class AuditDeniedError extends AuditError {
  readonly tool: string;
  readonly callId: string;
  readonly reason: string;
  readonly rule: string | undefined;
  constructor(init: { tool: string; callId: string; reason: string; rule?: string | undefined }) {
    super(
      'TOOLTRAIL_DENIED',
      `tool call "${init.tool}" (${init.callId}) denied${init.rule ? ` by rule ${init.rule}` : ''}: ${init.reason}`,
    );
    this.tool = init.tool;
    this.callId = init.callId;
    this.reason = init.reason;
    this.rule = init.rule;
    brand(this, DENIED);
  }

  /** True for an AuditDeniedError from any build or copy of @tooltrail/core. */
  static override isInstance(value: unknown): value is AuditDeniedError {
    return branded(value, DENIED);
  }
}

/** One problem found by the tool's schema, in a shape that does not depend on zod's version. */
export interface ValidationIssue {
  path: (string | number)[];
  code: string;
  message: string;
}

/** The arguments failed the tool's schema. The tool body never executed. */
export class AuditValidationError extends AuditError {
  readonly tool: string;
  readonly callId: string;
  readonly issues: ValidationIssue[];
  constructor(init: { tool: string; callId: string; issues: ValidationIssue[] }) {
    const first = init.issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
    super(
      'TOOLTRAIL_INVALID_ARGUMENTS',
      `tool call "${init.tool}" (${init.callId}) has invalid arguments${where}: ${first?.message ?? 'rejected by schema'}` +
        (init.issues.length > 1 ? ` (+${init.issues.length - 1} more)` : ''),
    );
    this.tool = init.tool;
    this.callId = init.callId;
    this.issues = init.issues;
    brand(this, INVALID);
  }

  /** True for an AuditValidationError from any build or copy of @tooltrail/core. */
  static override isInstance(value: unknown): value is AuditValidationError {
    return branded(value, INVALID);
  }
}

/** Misuse of the library: bad options (an unknown key names the nearest valid one), no auditor. */
export class AuditConfigError extends AuditError {
  readonly issues: string[];
  constructor(message: string, issues: string[] = [], code = 'TOOLTRAIL_CONFIG') {
    super(code, issues.length > 0 ? `${message}: ${issues.join('; ')}` : message);
    this.issues = issues;
    brand(this, CONFIG);
  }

  /** True for an AuditConfigError from any build or copy of @tooltrail/core. */
  static override isInstance(value: unknown): value is AuditConfigError {
    return branded(value, CONFIG);
  }
}

/**
 * The audit trail cannot take the record, so the call is refused rather than run unaudited.
 * `code`: `TOOLTRAIL_UNAVAILABLE` (the sink can take no records) or `TOOLTRAIL_SHUT_DOWN`
 * (the auditor is shutting down or shut down).
 */
export class AuditUnavailableError extends AuditError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'TOOLTRAIL_UNAVAILABLE', message, options);
    brand(this, UNAVAILABLE);
  }

  /** True for an AuditUnavailableError from any build or copy of @tooltrail/core. */
  static override isInstance(value: unknown): value is AuditUnavailableError {
    return branded(value, UNAVAILABLE);
  }
}

/** `code` of the AuditUnavailableError a call gets once its auditor's shutdown has begun. */
export const SHUT_DOWN_CODE = 'TOOLTRAIL_SHUT_DOWN';
