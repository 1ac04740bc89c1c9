/** Base of every error tooltrail throws itself. `code` is stable; messages may change. */
export class AuditError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
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
  }
}

/** Misuse of the library: bad options (an unknown key names the nearest valid one), no auditor. */
export class AuditConfigError extends AuditError {
  readonly issues: string[];
  constructor(message: string, issues: string[] = [], code = 'TOOLTRAIL_CONFIG') {
    super(code, issues.length > 0 ? `${message}: ${issues.join('; ')}` : message);
    this.issues = issues;
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
  }
}

/** `code` of the AuditUnavailableError a call gets once its auditor's shutdown has begun. */
export const SHUT_DOWN_CODE = 'TOOLTRAIL_SHUT_DOWN';
