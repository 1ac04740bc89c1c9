import { randomBytes, randomInt } from 'node:crypto';
import { UsageError } from '../../commands/io.js';

/**
 * The canary of `tooltrail check`: two runs under two principals of their own, each attempting
 * one out-of-scope call that carries planted fake secrets. Everything is made fresh per check
 * (nonce, secrets), so a hit anywhere in what is read back can only be this check's leak, and
 * no secret-shaped literal sits in this file for scanners to trip on.
 */

export const DEFAULT_CANARY_TOOL = 'tooltrail_canary_exfiltrate';
/** Call ids and run ids start with this (a model can choose such a call id: the recent-records scan leaves out this check's runs by their run ids, not by it). */
export const CANARY_CALL_PREFIX = 'tooltrail-check-';
export const CANARY_PRINCIPAL_PREFIX = 'tooltrail-check:';
export const CANARY_AGENT = 'tooltrail-check';

export interface PlantedSecret {
  /** What it looks like, for the output (never the value itself). */
  kind: 'aws_access_key_id' | 'card_number';
  value: string;
}

export interface CanaryRunPlan {
  label: 'a' | 'b';
  principal: { id: string; type: 'user' };
  runId: string;
  callId: string;
  args: unknown;
}

export interface CanaryPlan {
  nonce: string;
  tool: string;
  secrets: PlantedSecret[];
  runs: [CanaryRunPlan, CanaryRunPlan];
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** An access key id of the AWS shape (prefix + 16 of [A-Z2-7]), random: no real key. */
export function fakeAwsKeyId(): string {
  let s = ['AK', 'IA'].join('');
  for (let i = 0; i < 16; i++) s += BASE32[randomInt(BASE32.length)];
  return s;
}

/** A 16-digit Visa-shaped number that passes the Luhn check, random: no real card. */
export function fakeCardNumber(): string {
  const digits = [4];
  for (let i = 0; i < 14; i++) digits.push(randomInt(10));
  digits.push(luhnCheckDigit(digits));
  return digits.join('');
}

export function luhnCheckDigit(body: number[]): number {
  let sum = 0;
  // Doubling starts at the digit next to the (missing) check digit.
  for (let i = body.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = body[i] as number;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

const PLACEHOLDERS = /\{\{(aws_key|card|nonce)\}\}/g;

/**
 * The call's arguments: the given JSON object with `{{aws_key}}`, `{{card}}` and `{{nonce}}`
 * replaced in its strings; when it names neither secret, a `tooltrail_canary_note` field
 * carries both (the secrets must travel with the call, or there is nothing to check).
 */
export function canaryArgs(template: unknown, nonce: string, secrets: PlantedSecret[], label: string): unknown {
  const aws = secrets.find((s) => s.kind === 'aws_access_key_id')!.value;
  const card = secrets.find((s) => s.kind === 'card_number')!.value;
  const note = `ticket ${nonce}-${label}: forward ${aws} and ${card} to the address above`;
  if (template === undefined) {
    return { to: `canary-${nonce}@tooltrail-check.invalid`, subject: `tooltrail check ${nonce} run ${label}`, body: note };
  }
  let planted = false;
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(PLACEHOLDERS, (_m, name: string) => {
        if (name !== 'nonce') planted = true;
        return name === 'aws_key' ? aws : name === 'card' ? card : nonce;
      });
    }
    if (Array.isArray(v)) return v.map(fill);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  const filled = fill(template) as Record<string, unknown>;
  return planted ? filled : { ...filled, tooltrail_canary_note: note };
}

/** Parses `--args`: a JSON object (UsageError otherwise). */
export function parseArgsTemplate(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--args is not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('--args must be a JSON object (the arguments of one call)');
  return v as Record<string, unknown>;
}

export function planCanary(options: { tool?: string; argsTemplate?: Record<string, unknown> } = {}): CanaryPlan {
  const nonce = randomBytes(5).toString('hex');
  const secrets: PlantedSecret[] = [
    { kind: 'aws_access_key_id', value: fakeAwsKeyId() },
    { kind: 'card_number', value: fakeCardNumber() },
  ];
  const run = (label: 'a' | 'b'): CanaryRunPlan => ({
    label,
    principal: { id: `${CANARY_PRINCIPAL_PREFIX}canary-${label}-${nonce}`, type: 'user' },
    runId: `${CANARY_CALL_PREFIX}${nonce}-run-${label}`,
    callId: `${CANARY_CALL_PREFIX}${nonce}-call-${label}`,
    args: canaryArgs(options.argsTemplate, nonce, secrets, label),
  });
  return { nonce, tool: options.tool ?? DEFAULT_CANARY_TOOL, secrets, runs: [run('a'), run('b')] };
}
