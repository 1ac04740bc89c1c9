/**
 * The structural pass: walks a value once, masking by schema path, by key name and by the
 * value detectors, and returns a masked copy. Only the objects on the path to a masked value
 * are copied; the caller's value is never written to (the tool and policy rules see it raw).
 *
 * It walks plain JSON only (plain objects, arrays, strings, finite numbers, booleans, null),
 * the shape nearly every tool call has, so the result can go to the native JSON.stringify.
 * Anything else answers NOT_PLAIN and the encoder first normalises the value with toSafeJson
 * (Map, Date, Error, BigInt, circular...) and walks that.
 */
import { toSafeJson } from '../safe-json.js';
import type { MaskTally } from '../encode-report.js';
import type { MaskStrategy } from './catalog/detector-def.js';
import type { MaskPlan } from './plan.js';
import type { SensitiveNode } from './schema.js';
import { clientFlags, clientPasswordStart, flagRule, isNamedValueKey, isPairList, namedValueRule } from './named-shapes.js';

export const NOT_PLAIN: unique symbol = Symbol('tooltrail.not-plain-json');
export const MAX_DEPTH = 64; // as toSafeJson: deeper values are recorded as "[MaxDepth]"

const BIGINT = /^-?\d+n$/;
const ObjectProto = Object.prototype;
const ArrayProto = Array.prototype;
/** How a Map is written by toSafeJson: {"[Map]": [[key, value], ...]}. */
const MAP_KEY = '[Map]';

export class MaskWalk {
  private readonly ancestors: object[] = [];

  constructor(
    private readonly plan: MaskPlan,
    private readonly report: MaskTally,
  ) {}

  walk(value: unknown, node: SensitiveNode | undefined, depth: number): unknown {
    // Marks on children are applied by the parent; only a mark on the whole value (a tool schema
    // marked sensitive, a transform's output) reaches here.
    if (node?.mark !== undefined) return this.byMark(value, node);
    switch (typeof value) {
      case 'string':
        return this.string(value, node, depth);
      case 'number':
        if (!Number.isFinite(value)) return NOT_PLAIN;
        // A card number stored as a number: only integers long enough to be one are looked at.
        return value >= 1e12 || value <= -1e12 ? this.number(value) : value;
      case 'boolean':
        return value;
      case 'object':
        return value === null ? null : this.object(value, node, depth);
      default:
        return NOT_PLAIN;
    }
  }

  /** A string, with JSON text inside it masked structurally (a framework's raw argument string). */
  string(s: string, node: SensitiveNode | undefined, depth: number): unknown {
    if (s.length >= 2 && looksLikeJson(s)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(s);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed === 'object' && parsed !== null) {
        const inner = this.walk(parsed, node, depth + 1);
        if (inner !== NOT_PLAIN) return inner === parsed ? s : JSON.stringify(inner);
      }
    }
    // A BigInt as toSafeJson writes it (`4111111111111111n`): the `n` glued on hides the digits.
    if (s.length > 12 && s.charCodeAt(s.length - 1) === 110 /* n */ && BIGINT.test(s)) {
      const digits = s.slice(0, -1);
      const masked = this.plan.scanner.mask(digits, this.report);
      return masked === digits ? s : masked;
    }
    return this.plan.scanner.mask(s, this.report);
  }

  private number(n: number): unknown {
    if (!Number.isInteger(n)) return n;
    const s = String(n);
    const masked = this.plan.scanner.mask(s, this.report);
    return masked === s ? n : masked;
  }

  /** Replaces a whole value masked by schema or key name. Nothing to hide in null, booleans or "". */
  private whole(v: unknown, kind: string, strategy: MaskStrategy): unknown {
    if (v === null || v === undefined || typeof v === 'boolean' || v === '') return v;
    const structured = typeof v !== 'string' && typeof v !== 'number';
    // The partial form of an object's JSON would show its closing characters, not a useful tail.
    const how = structured && strategy === 'partial' ? 'redact' : strategy;
    const raw = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : how === 'hash' ? toSafeJson(v) : '';
    this.report.add(kind, how !== 'hash');
    return this.plan.tokenizer.token(kind, how, raw, raw, undefined);
  }

  private byMark(v: unknown, node: SensitiveNode): unknown {
    const mark = node.mark as NonNullable<SensitiveNode['mark']>;
    return this.whole(v, mark.kind, mark.strategy ?? this.plan.strategyFor(mark.kind, 'redact'));
  }

  private object(obj: object, node: SensitiveNode | undefined, depth: number): unknown {
    if (depth >= MAX_DEPTH || this.ancestors.includes(obj)) return NOT_PLAIN;
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto === ArrayProto) return this.array(obj as unknown[], node, depth);
    if (proto !== ObjectProto && proto !== null) return NOT_PLAIN;
    if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') return NOT_PLAIN;
    this.ancestors.push(obj);
    const src = obj as Record<string, unknown>;
    const named = namedValueRule(src, this.plan);
    let out: Record<string, unknown> | undefined;
    for (const key in src) {
      const v = src[key];
      if (v === undefined) continue; // omitted from JSON either way
      const child = node === undefined ? undefined : (node.children?.get(key) ?? node.any);
      const info = this.plan.keyInfo(key);
      let mv: unknown;
      if (child?.mark !== undefined) mv = this.byMark(v, child);
      else {
        const rule = named !== undefined && isNamedValueKey(key) ? named : info.rule;
        if (rule !== undefined) mv = this.whole(v, rule, this.plan.strategyFor(rule, 'redact'));
        else {
          mv = key === MAP_KEY && Array.isArray(v) ? this.mapEntries(v, depth + 1) : this.walk(v, child, depth + 1);
          if (mv === NOT_PLAIN) {
            this.ancestors.pop();
            return NOT_PLAIN;
          }
        }
      }
      let name = key;
      if (info.name !== undefined) {
        name = info.name;
        for (const [kind, lossy] of info.kinds) this.report.add(kind, lossy);
      }
      if (mv !== v || name !== key) {
        out ??= copyBefore(src, key);
        put(out, name, mv);
      } else if (out !== undefined) put(out, key, v);
    }
    this.ancestors.pop();
    return out ?? obj;
  }

  private array(arr: readonly unknown[], node: SensitiveNode | undefined, depth: number): unknown {
    this.ancestors.push(arr);
    // A list of [name, value] pairs (Object.entries, fetch's headers, URLSearchParams' init) is
    // read as a Map's entries: a name that a key rule matches masks its value.
    if (node === undefined && isPairList(arr)) {
      const entries = this.mapEntries(arr as unknown[], depth + 1);
      this.ancestors.pop();
      return entries;
    }
    let out: unknown[] | undefined;
    // A client whose short flags carry a password (`['sshpass', '-p', '…']`, `['mysql', '-p…']`),
    // under the rule the name `password` has in this plan (none when it is switched off).
    const known = clientFlags(arr[0]);
    const pw = known !== undefined ? this.plan.keys.match('password') : undefined;
    const client = pw !== undefined ? known : undefined;
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      // JSON.stringify writes null for undefined items, toSafeJson "[undefined]": let it decide.
      if (v === undefined) {
        this.ancestors.pop();
        return NOT_PLAIN;
      }
      const child = node === undefined ? undefined : (node.children?.get(String(i)) ?? node.any);
      // The item after a flag item that names a secret (`['--password', '…']`, a subprocess argv),
      // or after the client's own password flag (`['redis-cli', '-a', '…']`).
      const prev = i > 0 ? arr[i - 1] : undefined;
      const plain = typeof v === 'number' || (typeof v === 'string' && v.charCodeAt(0) !== 45); /* - */
      const asValue =
        plain && typeof prev === 'string' && prev.charCodeAt(0) === 45 ? (client !== undefined && prev === client.next ? pw : flagRule(prev, this.plan)) : undefined;
      const cut = asValue === undefined && client !== undefined && typeof v === 'string' ? clientPasswordStart(client, v, prev) : -1;
      const mv =
        child?.mark !== undefined
          ? this.byMark(v, child)
          : asValue !== undefined
            ? this.whole(v, asValue, this.plan.strategyFor(asValue, 'redact'))
            : cut !== -1
              ? (v as string).slice(0, cut) + String(this.whole((v as string).slice(cut), pw as string, this.plan.strategyFor(pw as string, 'redact')))
              : this.walk(v, child, depth + 1);
      if (mv === NOT_PLAIN) {
        this.ancestors.pop();
        return NOT_PLAIN;
      }
      if (mv !== v) (out ??= arr.slice(0, i)).push(mv);
      else if (out !== undefined) out.push(v);
    }
    this.ancestors.pop();
    return out ?? arr;
  }

  /** A Map's entries, as toSafeJson writes them: string keys get the key-name rules. */
  private mapEntries(entries: unknown[], depth: number): unknown {
    let out: unknown[] | undefined;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      let me: unknown;
      if (Array.isArray(e) && e.length === 2 && typeof e[0] === 'string') {
        const rule = this.plan.keys.match(e[0]);
        if (rule !== undefined) {
          const k = this.walk(e[0], undefined, depth + 1);
          const v = this.whole(e[1], rule, this.plan.strategyFor(rule, 'redact'));
          me = k === e[0] && v === e[1] ? e : [k, v];
        } else me = this.walk(e, undefined, depth);
      } else me = this.walk(e, undefined, depth);
      if (me === NOT_PLAIN) return NOT_PLAIN;
      if (me !== e) (out ??= entries.slice(0, i)).push(me);
      else if (out !== undefined) out.push(e);
    }
    return out ?? entries;
  }

}

function looksLikeJson(s: string): boolean {
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  if (first === 123 /* { */) return last === 125 /* } */ && (s.charCodeAt(1) === 34 /* " */ || s.charCodeAt(1) <= 32 || s.charCodeAt(1) === 125);
  if (first === 91 /* [ */ && last === 93 /* ] */) {
    // `[Circular]`, `[REDACTED:x]` and other bracketed markers are not JSON: skip the parse.
    const c = s.charCodeAt(1);
    return c === 34 || c === 123 || c === 91 || c === 93 || c === 45 || (c >= 48 && c <= 57) || c <= 32 || c === 116 || c === 102 || c === 110;
  }
  return false;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** A fresh object holding `src`'s properties that come before `key`. */
function copyBefore(src: Record<string, unknown>, key: string): Record<string, unknown> {
  // An ordinary object, not Object.create(null): V8 keeps it in fast mode, and JSON.stringify
  // of fast objects is what keeps masking cheap. `put` handles a `__proto__` key.
  const out: Record<string, unknown> = {};
  for (const k in src) {
    if (k === key) break;
    const v = src[k];
    if (v !== undefined) put(out, k, v);
  }
  return out;
}

/** Adds a property; two names can mask to the same token, so a clash is kept, numbered. */
function put(out: Record<string, unknown>, key: string, value: unknown): void {
  let name = key;
  for (let n = 2; hasOwn(out, name); n++) name = `${key} #${n}`;
  // Assignment to `__proto__` would set the prototype instead of adding the property.
  if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  else out[name] = value;
}
