/**
 * The compiled plan one auditor (or one tool with its own options) masks with: the key-name
 * rules, the text scanner and the strategies, built once from validated settings (options.ts).
 */
import { BUILTIN_DETECTORS, KEY_VALUE_DETECTOR_ID } from './catalog/builtin.js';
import type { MaskStrategy } from './catalog/detector-def.js';
import { BUILTIN_KEY_RULES, KeyMatcher } from './key-names.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, type MaskingSettings, type ToolMaskingSpec } from './options.js';
import type { SensitiveNode } from './schema.js';
import { TextScanner, type StrategyTable } from './text-masker.js';
import type { Tokenizer } from './tokens.js';

// Importers reach the options through this module too.
export {
  auditorMaskingOptionsSchema,
  auditorMaskingSettings,
  DEFAULT_MAX_PAYLOAD_BYTES,
  toolMaskingOptionsSchema,
  toolMaskingSpec,
  type CustomDetector,
  type MaskingOptions,
  type MaskingSettings,
  type ToolMaskingOptions,
  type ToolMaskingSpec,
} from './options.js';

export interface KeyInfo {
  /** The key-name rule the name matches: its value is masked whole. */
  readonly rule: string | undefined;
  /** The name as recorded, when it holds a detectable value itself. */
  readonly name: string | undefined;
  /** What masking the name counted, replayed on every use of the cached answer. */
  readonly kinds: readonly (readonly [string, boolean])[];
}

const PLAIN_KEY: KeyInfo = Object.freeze({ rule: undefined, name: undefined, kinds: [] });
const KEY_CACHE_LIMIT = 4096;

/** The compiled rules one payload is masked with. */
export class MaskPlan implements StrategyTable {
  readonly keys: KeyMatcher;
  readonly scanner: TextScanner;
  readonly maxPayloadBytes: number;
  readonly resultDigest: boolean;
  readonly sensitive: SensitiveNode | undefined;
  private readonly strategies: ReadonlyMap<string, MaskStrategy>;
  private readonly keyInfos = new Map<string, KeyInfo>();
  private readonly keyNameMin: number;

  constructor(
    readonly tokenizer: Tokenizer,
    auditor: MaskingSettings,
    tool: ToolMaskingSpec | undefined,
  ) {
    const own = tool?.settings;
    const strategies = new Map(auditor.strategies);
    for (const [k, v] of own?.strategies ?? []) strategies.set(k, v);
    this.strategies = strategies;
    const disabled = new Set([...auditor.disabled, ...(own?.disabled ?? [])]);
    const rules = new Set(BUILTIN_KEY_RULES);
    for (const k of auditor.keys) rules.add(k);
    for (const k of auditor.allowKeys) rules.delete(k);
    for (const k of own?.keys ?? []) rules.add(k);
    for (const k of own?.allowKeys ?? []) rules.delete(k);
    this.keys = new KeyMatcher(rules);
    const detectors = [...BUILTIN_DETECTORS, ...auditor.detectors, ...(own?.detectors ?? [])].filter((d) => !disabled.has(d.id));
    const keyValue = disabled.has(KEY_VALUE_DETECTOR_ID) || this.keys.size === 0 ? undefined : this.keys;
    this.scanner = new TextScanner(detectors, keyValue, this, tokenizer);
    this.maxPayloadBytes = own?.maxPayloadBytes ?? auditor.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.resultDigest = own?.result === 'digest';
    this.sensitive = tool?.sensitive;
    this.keyNameMin = this.scanner.minLength;
  }

  /**
   * What a property name means for masking, answered once per name: the key-name rule it
   * matches, and its masked form when the name itself holds a value (an email used as a key).
   */
  keyInfo(key: string): KeyInfo {
    let info = this.keyInfos.get(key);
    if (info !== undefined) return info;
    const rule = this.keys.match(key);
    let name: string | undefined;
    const kinds: [string, boolean][] = [];
    if (key.length >= this.keyNameMin) {
      // The value detectors and the `key=value` rule: a connection string, a `Cookie: sid=...`
      // header or a JDBC URL used as a property name holds its secret like any value would.
      const masked = this.scanner.mask(key, { add: (kind, lossy) => kinds.push([kind, lossy]) });
      if (masked !== key) name = masked;
    }
    info = rule === undefined && name === undefined ? PLAIN_KEY : { rule, name, kinds };
    // Bounded: keys can be data (ids used as object keys); start over rather than grow forever.
    if (this.keyInfos.size >= KEY_CACHE_LIMIT) this.keyInfos.clear();
    this.keyInfos.set(key, info);
    return info;
  }

  strategyFor(kind: string, fallback: MaskStrategy): MaskStrategy {
    return this.strategies.get(kind) ?? fallback;
  }
}
