/**
 * The masking encoder: the PayloadEncoder every auditor uses unless `masking: false`. It masks,
 * caps the size, tallies what it did into the call's report, and fails closed: when masking a
 * payload throws, the payload is recorded as a fixed marker, never raw.
 */
import { AuditConfigError } from '../../contract/errors.js';
import { consoleLogger, type AuditLogger } from '../../contract/logger.js';
import { checkKeys } from '../../contract/option-keys.js';
import { EncodeReport } from '../encode-report.js';
import type { EncodeContext, PayloadEncoder } from '../payload-encoder.js';
import { MASKING_FAILED_MARKER, PAYLOAD_DIGEST_MARKER } from '../../contract/semconv.js';
import { toSafeJson } from '../safe-json.js';
import { auditorMaskingSettings, MaskPlan, type MaskingOptions, type MaskingSettings, type ToolMaskingSpec } from './plan.js';
import { resolveHashKey, Tokenizer } from './tokens.js';
import { overCap, truncateJson, truncateText } from './truncate.js';
import { MaskWalk, NOT_PLAIN } from './value-masker.js';

const MARKER_JSON = JSON.stringify(MASKING_FAILED_MARKER);
const DIGEST_JSON = JSON.stringify(PAYLOAD_DIGEST_MARKER);

export class MaskingEncoder implements PayloadEncoder<ToolMaskingSpec> {
  readonly masks = true;
  /** Payloads replaced by the failure marker since the auditor started. */
  failures = 0;
  private warned = false;
  private readonly base: MaskPlan;
  private readonly plans = new WeakMap<ToolMaskingSpec, MaskPlan>();

  constructor(
    private readonly settings: MaskingSettings,
    private readonly tokenizer: Tokenizer,
    private readonly logger: AuditLogger,
  ) {
    this.base = new MaskPlan(tokenizer, settings, undefined);
  }

  /** The auditor's plan, or the tool's own (compiled on its first call, then kept). */
  private planFor(spec: ToolMaskingSpec | undefined): MaskPlan {
    if (spec === undefined) return this.base;
    let plan = this.plans.get(spec);
    if (plan === undefined) {
      plan = new MaskPlan(this.tokenizer, this.settings, spec);
      this.plans.set(spec, plan);
    }
    return plan;
  }

  json(value: unknown, ctx: EncodeContext<ToolMaskingSpec>): string {
    // Tally straight into the call's report; a payload that fails is rolled back out of it.
    const local = ctx.report ?? new EncodeReport();
    const mark = local.mark();
    let out: string;
    try {
      const plan = this.planFor(ctx.masking);
      if (ctx.field === 'result' && plan.resultDigest) {
        const raw = toSafeJson(value);
        local.addPartial({ field: ctx.field, how: 'digest', size: Buffer.byteLength(raw, 'utf8'), hash: this.tokenizer.digest(raw) });
        out = DIGEST_JSON;
      } else {
        const node = ctx.field === 'arguments' || ctx.field === 'proposed' ? plan.sensitive : undefined;
        out = maskJson(value, plan, node, local);
        if (overCap(out, plan.maxPayloadBytes)) {
          // Size and hash describe the payload as the tool gave it, so a copy kept elsewhere
          // (the tool's own log, a ticket) can be proven to be the one recorded here.
          const raw = toSafeJson(value);
          local.addPartial({ field: ctx.field, how: 'truncated', size: Buffer.byteLength(raw, 'utf8'), hash: this.tokenizer.digest(raw) });
          out = truncateJson(out, plan.maxPayloadBytes);
        }
      }
    } catch (err) {
      local.rollback(mark);
      return this.failed(ctx, err, MARKER_JSON);
    }
    return out;
  }

  text(value: string, ctx: EncodeContext<ToolMaskingSpec>): string {
    const local = ctx.report ?? new EncodeReport();
    const mark = local.mark();
    let out: string;
    try {
      const plan = this.planFor(ctx.masking);
      const rule = ctx.key === undefined || value === '' ? undefined : plan.keys.match(ctx.key);
      if (rule !== undefined) {
        const strategy = plan.strategyFor(rule, 'redact');
        local.add(rule, strategy !== 'hash');
        out = this.tokenizer.token(rule, strategy, value, value, undefined);
      } else {
        const masked = new MaskWalk(plan, local).string(value, undefined, 0);
        out = typeof masked === 'string' ? masked : MASKING_FAILED_MARKER;
      }
      if (overCap(out, plan.maxPayloadBytes)) out = truncateText(out, plan.maxPayloadBytes);
    } catch (err) {
      local.rollback(mark);
      return this.failed(ctx, err, MASKING_FAILED_MARKER);
    }
    return out;
  }

  /**
   * A correlation value (a run, call or session id, a tool name): the value detectors only (the
   * `key=value` detector among them), never a key-name rule on the attribute's name, and not the
   * short-string memo (call ids are unique: they would crowd out
   * the values that repeat). Callers cache what repeats (per run, per tool).
   */
  correlation(value: string, ctx: EncodeContext<ToolMaskingSpec>): string {
    const local = ctx.report ?? new EncodeReport();
    const mark = local.mark();
    let out: string;
    try {
      const plan = this.planFor(ctx.masking);
      // `key=value` inside the value is a value detector like any other (`call password=...`);
      // only values that can hold one take the memo's path, and ids rarely hold `=` or `:`.
      out = value.indexOf('=') !== -1 || value.indexOf(':') !== -1 ? plan.scanner.mask(value, local) : plan.scanner.maskValues(value, local);
      if (overCap(out, plan.maxPayloadBytes)) out = truncateText(out, plan.maxPayloadBytes);
    } catch (err) {
      local.rollback(mark);
      return this.failed(ctx, err, MASKING_FAILED_MARKER);
    }
    return out;
  }

  private failed(ctx: EncodeContext, err: unknown, marker: string): string {
    this.failures++;
    if (ctx.report) ctx.report.failed++;
    if (!this.warned) {
      this.warned = true;
      // The error's message is not logged: it may quote the very value being masked.
      const type = err instanceof Error ? err.constructor.name || err.name : typeof err;
      this.logger.warn(
        `masking failed (${type}) on the ${ctx.field} of ${ctx.tool ? `tool "${ctx.tool}"` : 'a run'}; ` +
          `recorded as ${MASKING_FAILED_MARKER}. Later failures are only counted: auditor.stats().maskingFailures`,
      );
    }
    return marker;
  }
}

/** Masks a value into JSON: plain JSON walked directly, anything else normalised first. */
function maskJson(value: unknown, plan: MaskPlan, node: MaskPlan['sensitive'], report: EncodeReport): string {
  const mark = report.mark();
  let masked: unknown;
  try {
    masked = new MaskWalk(plan, report).walk(value, node, 0);
  } catch {
    // A throwing getter, a Proxy: toSafeJson knows how to record those. A detector that
    // throws will throw again below, and then the payload fails closed.
    masked = NOT_PLAIN;
  }
  if (masked !== NOT_PLAIN) return JSON.stringify(masked);
  report.rollback(mark); // what the abandoned pass counted
  const normalised = JSON.parse(toSafeJson(value)) as unknown;
  masked = new MaskWalk(plan, report).walk(normalised, node, 0);
  if (masked === NOT_PLAIN) throw new Error('normalised value is not plain JSON');
  return JSON.stringify(masked);
}

/** `createAuditor()` builds one of these; exported for masking your own logs the same way. */
export function createMaskingEncoder(
  options: MaskingOptions = {},
  deps: { logger?: AuditLogger; env?: NodeJS.ProcessEnv } = {},
): MaskingEncoder {
  if (typeof deps === 'object' && deps !== null) {
    const issues: string[] = [];
    checkKeys(deps, ['logger', 'env'], '', issues);
    if (issues.length > 0) throw new AuditConfigError('invalid createMaskingEncoder() dependencies', issues);
  }
  const logger = deps.logger ?? consoleLogger;
  const settings = auditorMaskingSettings(options);
  const { key } = resolveHashKey(options.hashKey, deps.env ?? process.env, logger);
  return new MaskingEncoder(settings, new Tokenizer(key), logger);
}
