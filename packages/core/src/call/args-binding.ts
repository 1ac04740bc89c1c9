import { createHmac, randomBytes } from 'node:crypto';
import { MASK_KEY_ENV, resolveHashKey } from '../payload/masking/tokens.js';

/**
 * Binding an approval to the arguments it was asked for. A call held `pending_approval` records
 * a hash of its arguments; the call that resumes it (same call id) must have the same
 * arguments, or its approval approves something nobody saw: it is denied. The hash is over the
 * real values (masking-independent: two masked values print alike), keyed with the masking HMAC
 * key: a plain hash of the arguments on the trail would let anyone who reads it confirm guesses
 * of a masked value (nine digits of an SSN are a billion guesses, minutes of work). The key id in
 * the hash tells a hash made with another key (another process without a shared key) from a
 * mismatch. docs/span-schema.md "Pending calls" specifies it for other implementations.
 */

export { ATTR_APPROVAL_ARGS_CHECK, ATTR_APPROVAL_ARGS_HASH } from '../contract/semconv.js';
export type ArgsCheck = 'matched' | 'mismatch' | 'unchecked';

const HASH_PREFIX = 'hmac-sha256:';
const HASH_RE = /^hmac-sha256:[0-9a-f]{8}:[0-9a-f]{64}$/;
const DOMAIN = 'tooltrail-args-v1';
const MAX_DEPTH = 64;

class Unhashable extends Error {}

/**
 * The canonical JSON text of arguments: JSON.stringify's, with object keys sorted (code unit
 * order) and nothing user-defined called: no toJSON but a Date's (its ISO time, null when
 * invalid). Values JSON cannot hold faithfully (functions, symbols, bigints, Maps, Sets, other
 * class instances, cycles, more than 64 levels) throw: such arguments cannot be bound.
 */
export function canonicalArguments(value: unknown): string {
  const out: string[] = [];
  const path = new Set<object>();
  const write = (v: unknown, depth: number, inArray: boolean): boolean => {
    switch (typeof v) {
      case 'string':
        out.push(JSON.stringify(v));
        return true;
      case 'number':
        out.push(Number.isFinite(v) ? JSON.stringify(v) : 'null');
        return true;
      case 'boolean':
        out.push(v ? 'true' : 'false');
        return true;
      case 'undefined':
        if (inArray) out.push('null');
        return inArray; // an undefined member is left out, as JSON does
      case 'object':
        break;
      default:
        throw new Unhashable(`a ${typeof v} has no canonical form`);
    }
    if (v === null) {
      out.push('null');
      return true;
    }
    if (depth > MAX_DEPTH) throw new Unhashable('too deep');
    if (path.has(v)) throw new Unhashable('a cycle');
    if (v instanceof Date) {
      const t = Date.prototype.getTime.call(v);
      out.push(Number.isFinite(t) ? JSON.stringify(new Date(t).toISOString()) : 'null');
      return true;
    }
    path.add(v);
    if (Array.isArray(v)) {
      out.push('[');
      const n = v.length;
      for (let i = 0; i < n; i++) {
        if (i > 0) out.push(',');
        write(v[i], depth + 1, true);
      }
      out.push(']');
    } else {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new Unhashable('not a plain object');
      out.push('{');
      let first = true;
      for (const k of Object.keys(v).sort()) {
        const mark = out.length;
        out.push(first ? '' : ',', JSON.stringify(k), ':');
        if (write((v as Record<string, unknown>)[k], depth + 1, false)) first = false;
        else out.length = mark;
      }
      out.push('}');
    }
    path.delete(v);
    return true;
  };
  write(value, 0, true);
  return out.join('');
}

/** The key an auditor's argument hashes are made with, and its id (in every hash it makes). */
export interface ArgumentsKey {
  readonly key: Buffer;
  readonly id: string;
}

export function argumentsKey(key: Buffer): ArgumentsKey {
  return { key, id: createHmac('sha256', key).update('tooltrail-args-key-id').digest('hex').slice(0, 8) };
}

/**
 * The key of an auditor's argument hashes: the masking HMAC key (the `masking.hashKey` option,
 * else TOOLTRAIL_MASK_KEY, else the process's random key), so processes that share it check each
 * other's approvals; with masking off or a custom encoder, TOOLTRAIL_MASK_KEY or a random key.
 */
export function argumentsKeyFor(masking: false | { hashKey?: string | Uint8Array | undefined } | undefined, custom: boolean, env: NodeJS.ProcessEnv = process.env): ArgumentsKey {
  if (masking !== false && !custom) return argumentsKey(resolveHashKey(masking?.hashKey, env, { warn: () => undefined }).key);
  const fromEnv = env[MASK_KEY_ENV];
  return argumentsKey(fromEnv !== undefined && fromEnv !== '' ? Buffer.from(fromEnv, 'utf8') : randomBytes(32));
}

/**
 * `hmac-sha256:<key id>:<hex>`, the HMAC-SHA256 with `k` of `tooltrail-args-v1\n{callId}\n{canonical
 * arguments}`, or undefined when the arguments have no canonical form (or reading them threw: a
 * getter, a Proxy trap). Salted with the call id, so equal arguments of two calls do not link.
 */
export function argumentsHash(k: ArgumentsKey, callId: string, args: unknown): string | undefined {
  let text: string;
  try {
    text = canonicalArguments(args);
  } catch {
    return undefined;
  }
  return `${HASH_PREFIX}${k.id}:${createHmac('sha256', k.key).update(`${DOMAIN}\n${callId}\n${text}`).digest('hex')}`;
}

/** The key id a hash was made with. */
function keyIdOf(hash: string): string {
  return hash.slice(HASH_PREFIX.length, HASH_PREFIX.length + 8);
}

export function isArgumentsHash(v: unknown): v is string {
  return typeof v === 'string' && HASH_RE.test(v);
}

/** What a resumed call's arguments are checked against: this auditor's held hash, the approval's. */
export interface ArgsBinding {
  /** Held by this auditor: the hash it was held with (null: held without arguments to hash). */
  readonly held: string | null | undefined;
  /** The approval's `argsHash` (a framework that resumed it elsewhere). */
  readonly carried: string | undefined;
}

/** The outcome of checking a resumed call's arguments; `reason` set on a mismatch. */
export interface BindingResult {
  readonly check: ArgsCheck;
  /** The hash to record: the one that matched, else the hash of the arguments that would run. */
  readonly hash: string | undefined;
  readonly reason?: string;
}

/**
 * Checks a resumed call's arguments. Both its arguments as given and as validated count (the
 * adapters hold calls with the framework's parsed input; a plain caller with what it passed):
 * the schema is a function of the former, so matching either is the same call.
 */
export function checkBinding(binding: ArgsBinding, k: ArgumentsKey, callId: string, given: unknown, validated: unknown): BindingResult {
  const ran = argumentsHash(k, callId, validated);
  const asGiven = given === validated ? ran : argumentsHash(k, callId, given);
  const matches = (h: string): boolean => h === ran || h === asGiven;
  if (typeof binding.held === 'string' && !matches(binding.held)) {
    return { check: 'mismatch', hash: ran, reason: "the approval resumes a call held for approval with other arguments than this call's; call denied (fail closed)" };
  }
  // A hash made with another key cannot be compared (another process without the shared key): unchecked, said so.
  const carried = binding.carried !== undefined && keyIdOf(binding.carried) === k.id ? binding.carried : undefined;
  if (carried !== undefined && !matches(carried)) {
    return { check: 'mismatch', hash: ran, reason: "the approval's argsHash names other arguments than this call's; call denied (fail closed)" };
  }
  const expected = typeof binding.held === 'string' ? binding.held : carried;
  if (expected === undefined) return { check: 'unchecked', hash: ran };
  return { check: 'matched', hash: expected };
}
