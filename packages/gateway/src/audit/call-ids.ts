/**
 * The call id a `tools/call` is recorded under. The agent may name one in
 * `params._meta["tooltrail/callId"]` (so its own record and the gateway's join), but that is the
 * agent's word: an id that is not a short string of a safe alphabet, or that another run already
 * used in this gateway process, would make the trail ambiguous (two principals' calls under one
 * id, a record the report pairs with someone else's). Such a call is recorded under a fresh id,
 * the claim kept as evidence (docs/gateway.md, "The call id").
 */
import { randomBytes } from 'node:crypto';

/** The `params._meta` key of the agent's call id (@tooltrail/mcp sends its own there). */
export const CALL_ID_META_KEY = 'tooltrail/callId';

/** The claimed id, printable and cut short, when the gateway recorded the call under another. */
export const ATTR_CALL_ID_CLAIMED = 'tooltrail.call_id.claimed';
/** Why the claim was not used: `not_string`, `empty`, `too_long`, `charset` or `reused`. */
export const ATTR_CALL_ID_REJECTED = 'tooltrail.call_id.rejected';

export const MAX_CALL_ID_CHARS = 128;
/** Letters, digits and `. _ : - + = / @`: what model and framework call ids use (`call_…`, `toolu_…`, UUIDs, base64). */
const CALL_ID = /^[A-Za-z0-9._:+=/@-]+$/;
/** How many ids the gateway remembers (oldest forgotten first): ~128 B each, a few MiB at most. */
export const CALL_ID_MEMORY = 65_536;

export type CallIdRejection = 'not_string' | 'empty' | 'too_long' | 'charset' | 'reused';

export interface CallIdDecision {
  /** The id to record the call under: the claimed one, or a fresh one. */
  callId: string;
  /** Evidence of a claim that was not used (ATTR_CALL_ID_*); empty otherwise. */
  attributes: Record<string, string>;
}

/** What is wrong with a claimed id, or undefined when it is well formed. */
export function callIdProblem(value: unknown): Exclude<CallIdRejection, 'reused'> | undefined {
  if (typeof value !== 'string') return 'not_string';
  if (value === '') return 'empty';
  if (value.length > MAX_CALL_ID_CHARS) return 'too_long';
  return CALL_ID.test(value) ? undefined : 'charset';
}

/** A claim as evidence: JSON text (control characters escaped), at most MAX_CALL_ID_CHARS characters. */
export function claimedText(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value.slice(0, MAX_CALL_ID_CHARS + 1)) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = `[${typeof value}]`;
  }
  return text.length > MAX_CALL_ID_CHARS ? `${text.slice(0, MAX_CALL_ID_CHARS - 1)}…` : text;
}

/**
 * The ids calls were recorded under in this gateway process, each with the run that used it.
 * The same run sending an id again is a retry of that call (core counts it as attempt 2, 3, ...,
 * as @tooltrail/mcp does when its retry policy sends a call again); another run sending it is
 * not that call.
 */
export class CallIds {
  private readonly owners = new Map<string, string>();

  constructor(private readonly capacity = CALL_ID_MEMORY) {}

  /**
   * The id for a call of the run `owner` (its principal and run id, as recorded) whose `_meta`
   * is `meta`. Fresh ids are made here, not by core, so they are remembered too: an agent that
   * learns one (a refusal result names it) cannot file a call of its own under it.
   */
  decide(meta: unknown, owner: string): CallIdDecision {
    const claimed = isPlainObject(meta) && Object.hasOwn(meta, CALL_ID_META_KEY) ? meta[CALL_ID_META_KEY] : undefined;
    if (claimed === undefined) return { callId: this.remember(freshCallId(), owner), attributes: {} };
    const problem = callIdProblem(claimed);
    const before = problem === undefined ? this.owners.get(claimed as string) : undefined;
    const why = problem ?? (before !== undefined && before !== owner ? 'reused' : undefined);
    if (why === undefined) return { callId: this.remember(claimed as string, owner), attributes: {} };
    return { callId: this.remember(freshCallId(), owner), attributes: { [ATTR_CALL_ID_CLAIMED]: claimedText(claimed), [ATTR_CALL_ID_REJECTED]: why } };
  }

  private remember(id: string, owner: string): string {
    this.owners.delete(id);
    this.owners.set(id, owner);
    if (this.owners.size > this.capacity) this.owners.delete(this.owners.keys().next().value as string);
    return id;
  }
}

/** core's own shape: `call_` + 24 hex digits (96 random bits). */
function freshCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
