/**
 * Key-name rules: a property called `password` or `apiKey` is masked whatever its value looks
 * like. Names are compared as words, case- and separator-insensitively (`API-Key`, `api_key`,
 * `apiKey` and `apikey` are one rule), and a rule word qualified as metadata (`token_count`,
 * `max_token`, `secret_name`) does not count: those describe a secret without holding it.
 * Names are normalised first as text is (percent-decoding, escapes, NFKC, invisibles removed), so
 * `pass\u200Bword`, full-width `ｐａｓｓｗｏｒｄ` and `pass%77ord` are the password rule.
 */
import { PROSE_WORD_RULES } from './catalog/key-rules.js';
import { normaliseKey } from './normalise.js';

export { BUILTIN_KEY_RULES, LINE_VALUE_RULES, PROSE_WORD_RULES } from './catalog/key-rules.js';

/** A word right after the rule that makes the key describe the secret rather than hold it. */
const METADATA_AFTER = new Set([
  'count', 'counts', 'length', 'len', 'size', 'limit', 'limits', 'max', 'min', 'type', 'types', 'kind',
  'name', 'names', 'id', 'ids', 'expiry', 'expires', 'expiration', 'expired', 'ttl', 'url', 'uri',
  'endpoint', 'path', 'file', 'enabled', 'required', 'present', 'policy', 'format', 'usage', 'used',
  'remaining', 'index', 'version', 'field', 'fields', 'label', 'prefix',
  // Facts about a secret that hold none of it (a flag, a date, where it lives, how often it failed).
  'arn', 'hint', 'attempts', 'attempt', 'retries', 'last', 'changed', 'rotated', 'rotation', 'domain', 'header',
  'status', 'photo', 'country', 'state', 'provider', 'manager', 'set', 'exists', 'sent', 'budget', 'bucket',
  'last4', 'strength', 'algorithm', 'issuer', 'scope', 'scopes',
  // How one authenticates, not with what (`auth_method`, `auth_mode`), and a pass rate.
  'method', 'methods', 'mode', 'flow', 'strategy', 'rate',
]);
/** A word right before the rule with the same effect (`max_token`, `num_token`). */
const METADATA_BEFORE = new Set(['max', 'min', 'num', 'total', 'count', 'has', 'is', 'requires', 'require']);

const CAMEL_LOWER_UPPER = /([a-z0-9])([A-Z])/g;
const CAMEL_ACRONYM = /([A-Z]+)([A-Z][a-z])/g;
const NON_ALNUM = /[^a-z0-9]+/;
const TRAILING_DIGITS = /(?<=[a-z]{3})\d{1,2}$/;
const GLUED_PASSWORD = /^[a-z]{2,}(password|passwd|passphrase)$/;

/** `X-API-Key` -> [x, api, key]; `accessToken` -> [access, token]; `APIKey` -> [api, key]. */
export function splitWords(key: string): string[] {
  const spaced = normaliseKey(key).replace(CAMEL_LOWER_UPPER, '$1 $2').replace(CAMEL_ACRONYM, '$1 $2').toLowerCase();
  return spaced.split(NON_ALNUM).filter((w) => w.length > 0);
}

/** The canonical snake_case name of a rule as a user wrote it (`apiKey` -> `api_key`). */
export function canonicalKey(name: string): string {
  return splitWords(name).join('_');
}

interface Rule {
  readonly kind: string;
  readonly words: readonly string[];
}

const CACHE_LIMIT = 4096;

/** Matches property names against a set of rules; answers are cached per name. */
export class KeyMatcher {
  /** Rules by first word; a joined form (`apikey`) is its own one-word entry. */
  private readonly byFirst = new Map<string, Rule[]>();
  private readonly cache = new Map<string, string | null>();
  /** Every rule word, for a cheap "can this text hold a key=value secret" test. */
  readonly words: ReadonlySet<string>;

  constructor(rules: Iterable<string>) {
    const words = new Set<string>();
    for (const name of rules) {
      const ruleWords = splitWords(name);
      if (ruleWords.length === 0) continue;
      const kind = ruleWords.join('_');
      this.addRule({ kind, words: ruleWords });
      if (ruleWords.length > 1) this.addRule({ kind, words: [ruleWords.join('')] });
      for (const w of ruleWords) words.add(w);
    }
    this.words = words;
  }

  private addRule(rule: Rule): void {
    const first = rule.words[0] as string;
    const list = this.byFirst.get(first);
    if (list) list.push(rule);
    else this.byFirst.set(first, [rule]);
  }

  get size(): number {
    return this.byFirst.size;
  }

  /** The kind of the longest rule `key` holds, or undefined. */
  match(key: string): string | undefined {
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const kind = this.compute(key);
    // Bounded: keys can be data (ids used as object keys); start over rather than grow forever.
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, kind ?? null);
    return kind;
  }

  private compute(key: string): string | undefined {
    if (this.byFirst.size === 0) return undefined;
    const words = splitWords(key);
    const kind = this.matchWords(words);
    if (kind !== undefined) return kind;
    // `password1`, `token2`: a number glued to a rule word is a counter, not metadata; and
    // `PGPASSWORD`, `DBPASSWD`: a password glued to what it is for is still a password.
    let changed = false;
    const bare = words.map((w) => {
      const b = w.replace(TRAILING_DIGITS, '').replace(GLUED_PASSWORD, '$1');
      if (b !== w) changed = true;
      return b;
    });
    if (changed) {
      const glued = this.matchWords(bare);
      if (glued !== undefined) return glued;
    }
    // `PaSsWoRd`: case changes inside a word are no word boundaries when they make no rule.
    const flat = normaliseKey(key).toLowerCase().split(NON_ALNUM).filter((w) => w.length > 0);
    return flat.join(' ') === words.join(' ') ? undefined : this.matchWords(flat);
  }

  private matchWords(words: readonly string[]): string | undefined {
    let best: Rule | undefined;
    // Word spans [from, to) of rules a metadata word disqualified: a shorter rule inside one
    // does not count either (`pin_code_length` describes a PIN code; `pin` must not match it).
    let described: [number, number][] | undefined;
    const candidates: [Rule, number][] = [];
    for (let i = 0; i < words.length; i++) {
      const rules = this.byFirst.get(words[i] as string);
      if (!rules) continue;
      for (const rule of rules) {
        const n = rule.words.length;
        if (i + n > words.length) continue;
        let same = true;
        for (let j = 1; j < n; j++) {
          if (words[i + j] !== rule.words[j]) {
            same = false;
            break;
          }
        }
        if (!same) continue;
        const before = i > 0 ? words[i - 1] : undefined;
        const after = words[i + n];
        if ((before !== undefined && METADATA_BEFORE.has(before)) || (after !== undefined && METADATA_AFTER.has(after))) {
          (described ??= []).push([i, i + n]);
          continue;
        }
        candidates.push([rule, i]);
      }
    }
    for (const [rule, i] of candidates) {
      const n = rule.words.length;
      if (described !== undefined && described.some(([from, to]) => from <= i && i + n <= to && to - from > n)) continue;
      // A loose word loses a tie: `auth_password` is a password.
      if (best === undefined || n > best.words.length || (n === best.words.length && PROSE_WORD_RULES.has(best.kind))) best = rule;
    }
    return best?.kind;
  }
}
