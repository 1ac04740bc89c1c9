/**
 * Masking options: their types, their zod schemas, and their validation into settings. Options
 * are checked when the auditor is created or the tool wrapped, so a typo fails at startup, not
 * on the first call.
 */
import { z } from 'zod';
import { AuditConfigError } from '../../contract/errors.js';
import { unknownKeys } from '../../contract/option-keys.js';
import { BUILTIN_DETECTOR_IDS, KEY_VALUE_DETECTOR_ID } from './catalog/builtin.js';
import type { DetectorDef, MaskStrategy } from './catalog/detector-def.js';
import { canonicalKey } from './key-names.js';
import { sensitivePaths, type SensitiveNode } from './schema.js';

/** A detector of your own: a pattern (with an optional validator), or a function that finds spans. */
export interface CustomDetector {
  /** Recorded as the kind (`[REDACTED:<id>]`, `tooltrail.mask.kinds`). Letters, digits, `_`, `.`, `-`. */
  id: string;
  /** Searched globally whatever its flags; when it has a capture group 1, only that group is masked. */
  pattern?: RegExp;
  /** Finds spans itself, e.g. an NER model's person names. Must be synchronous. */
  find?: (text: string) => Iterable<{ start: number; end: number }>;
  /** Confirms a match (a checksum, a lookup) before it is masked. */
  validate?: (match: string) => boolean;
  /** Default `redact`. */
  strategy?: MaskStrategy;
  /** Strings shorter than this are not searched. Default 1. */
  minLength?: number;
}

/** `createAuditor({ masking })`. Masking is on by default; `masking: false` turns it off. */
export interface MaskingOptions {
  /**
   * Key of the HMAC-SHA256 behind `hash` tokens and payload digests, at least 16 bytes.
   * Default: the TOOLTRAIL_MASK_KEY environment variable, else a random key per process
   * (tokens then correlate only within the process; a warning says so once).
   */
  hashKey?: string | Uint8Array;
  /** Strategy per kind (a detector id, a key-name rule, `sensitive`), over the defaults. */
  strategies?: Record<string, MaskStrategy>;
  /** Built-in detectors to switch off, by id (`phone`, `ipv4`, ..., `key_value`). */
  disable?: string[];
  /** Your own detectors, run after the built-in ones. */
  detectors?: CustomDetector[];
  /** More key names whose values are always masked (whole words, any case or separator). */
  keys?: string[];
  /** Built-in key names to stop masking by name (their values still go through the detectors). */
  allowKeys?: string[];
  /** Largest recorded payload, in UTF-8 bytes. Default 16 384. */
  maxPayloadBytes?: number;
}

/** `withAudit(fn, { masking })`: the auditor's options, overridden or extended for one tool. */
export interface ToolMaskingOptions extends Omit<MaskingOptions, 'hashKey'> {
  /** `digest`: record the result only as its size and keyed hash, never its content. */
  result?: 'masked' | 'digest';
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024;
const MIN_PAYLOAD_BYTES = 256;
const ID = /^[A-Za-z0-9_.-]{1,64}$/;

const strategySchema = z.enum(['redact', 'hash', 'partial']);
const detectorSchema = z
  .object({
    id: z.string().regex(ID, 'detector id must be 1-64 letters, digits, "_", "." or "-"'),
    pattern: z.instanceof(RegExp).optional(),
    find: z.custom<CustomDetector['find']>((f) => typeof f === 'function', 'find must be a function').optional(),
    validate: z.custom<CustomDetector['validate']>((f) => typeof f === 'function', 'validate must be a function').optional(),
    strategy: strategySchema.optional(),
    minLength: z.number().int().nonnegative().optional(),
  })
  .refine((d) => (d.pattern === undefined) !== (d.find === undefined), 'a detector needs exactly one of pattern and find');
const keyName = z.string().refine((k) => canonicalKey(k) !== '', 'a key name needs at least one letter or digit');
const toolSchema = z.object({
  strategies: z.record(z.string(), strategySchema).optional(),
  disable: z.array(z.string()).optional(),
  detectors: z.array(detectorSchema).optional(),
  keys: z.array(keyName).optional(),
  allowKeys: z.array(keyName).optional(),
  maxPayloadBytes: z.number().int().min(MIN_PAYLOAD_BYTES, `maxPayloadBytes must be at least ${MIN_PAYLOAD_BYTES}`).optional(),
  result: z.enum(['masked', 'digest']).optional(),
});
const auditorSchema = toolSchema.omit({ result: true }).extend({
  hashKey: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
});
/** The option schemas, also the list of valid names for the unknown-key check (option-keys.ts). */
export { toolSchema as toolMaskingOptionsSchema, auditorSchema as auditorMaskingOptionsSchema };

/** Options after validation, ready to be layered (auditor, then tool). */
export interface MaskingSettings {
  readonly strategies: ReadonlyMap<string, MaskStrategy>;
  readonly disabled: ReadonlySet<string>;
  readonly detectors: readonly DetectorDef[];
  readonly keys: readonly string[];
  readonly allowKeys: readonly string[];
  readonly maxPayloadBytes: number | undefined;
  readonly result: 'masked' | 'digest' | undefined;
}

/** What a tool definition carries for masking: its own settings and its schema's sensitive paths. */
export interface ToolMaskingSpec {
  readonly settings: MaskingSettings | undefined;
  readonly sensitive: SensitiveNode | undefined;
}

function issuesOf(error: z.ZodError, prefix: string): string[] {
  return error.issues.map((i) => `${[prefix, ...i.path.map(String)].join('.')}: ${i.message}`);
}

function compileDetector(d: CustomDetector): DetectorDef {
  let pattern: RegExp | undefined;
  if (d.pattern !== undefined) {
    // Global for exec loops, `d` for group offsets; sticky would stop the search at the first miss.
    const flags = new Set(d.pattern.flags.replace('y', '').split(''));
    flags.add('g');
    flags.add('d');
    pattern = new RegExp(d.pattern.source, [...flags].join(''));
  }
  // Count capture groups by matching the empty string against `pattern|`: the result has one
  // slot per group.
  const group =
    pattern !== undefined && (new RegExp(`(?:${pattern.source})|`, pattern.flags.replace(/[gyd]/g, '')).exec('') as RegExpExecArray).length > 1
      ? 1
      : undefined;
  return Object.freeze({
    id: d.id,
    strategy: d.strategy ?? 'redact',
    gate: 'always',
    minLength: d.minLength ?? 1,
    pattern,
    group,
    find: d.find,
    validate: d.validate,
    builtin: false,
  });
}

function settingsFrom(
  parsed: z.infer<typeof toolSchema>,
  raw: MaskingOptions | ToolMaskingOptions,
  where: string,
): MaskingSettings {
  const detectors = (raw.detectors ?? []).map(compileDetector);
  const ids = new Set<string>();
  const issues: string[] = [];
  for (const d of detectors) {
    if (BUILTIN_DETECTOR_IDS.has(d.id) || d.id === KEY_VALUE_DETECTOR_ID) issues.push(`${where}.detectors: "${d.id}" is a built-in detector id`);
    else if (ids.has(d.id)) issues.push(`${where}.detectors: duplicate id "${d.id}"`);
    ids.add(d.id);
  }
  for (const id of parsed.disable ?? []) {
    if (!BUILTIN_DETECTOR_IDS.has(id) && id !== KEY_VALUE_DETECTOR_ID && !ids.has(id)) {
      issues.push(`${where}.disable: unknown detector "${id}" (built-in ids: ${[...BUILTIN_DETECTOR_IDS, KEY_VALUE_DETECTOR_ID].join(', ')})`);
    }
  }
  if (issues.length > 0) throw new AuditConfigError('invalid masking options', issues);
  return Object.freeze({
    strategies: new Map(Object.entries(parsed.strategies ?? {})),
    disabled: new Set(parsed.disable ?? []),
    detectors,
    keys: (parsed.keys ?? []).map(canonicalKey),
    allowKeys: (parsed.allowKeys ?? []).map(canonicalKey),
    maxPayloadBytes: parsed.maxPayloadBytes,
    result: parsed.result,
  });
}

/** Checks auditor-level options; throws AuditConfigError listing every problem. */
export function auditorMaskingSettings(options: MaskingOptions | undefined): MaskingSettings {
  const raw = options ?? {};
  if (typeof raw !== 'object' || raw === null) throw new AuditConfigError('masking must be an options object or false');
  // Unknown keys first, at any depth, each with the nearest valid name (a standalone
  // createMaskingEncoder() has no auditor check in front of it).
  const unknown = unknownKeys(auditorSchema, raw, 'masking.');
  if (unknown.length > 0) throw new AuditConfigError('invalid masking options', unknown);
  const r = auditorSchema.strict().safeParse(raw);
  if (!r.success) throw new AuditConfigError('invalid masking options', issuesOf(r.error, 'masking'));
  return settingsFrom(r.data, raw, 'masking');
}

/** Checks a tool's options and walks its schema; undefined when the tool adds nothing. */
export function toolMaskingSpec(tool: string, options: ToolMaskingOptions | undefined, schema: unknown): ToolMaskingSpec | undefined {
  let settings: MaskingSettings | undefined;
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null) {
      throw new AuditConfigError(`tool "${tool}": masking must be an options object (masking can only be turned off for a whole auditor)`);
    }
    const unknown = unknownKeys(toolSchema, options, 'masking.');
    if (unknown.length > 0) throw new AuditConfigError(`tool "${tool}": invalid masking options`, unknown);
    const r = toolSchema.strict().safeParse(options);
    if (!r.success) throw new AuditConfigError(`tool "${tool}": invalid masking options`, issuesOf(r.error, 'masking'));
    settings = settingsFrom(r.data, options, `tool "${tool}" masking`);
  }
  let sensitive: SensitiveNode | undefined;
  try {
    sensitive = schema === undefined ? undefined : sensitivePaths(schema);
  } catch (err) {
    // Failing open here would record fields the schema says are sensitive.
    throw new AuditConfigError(`tool "${tool}": could not read the schema for sensitive fields: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (settings === undefined && sensitive === undefined) return undefined;
  return Object.freeze({ settings, sensitive });
}
