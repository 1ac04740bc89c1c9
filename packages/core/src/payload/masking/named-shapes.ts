/**
 * Shapes in which a secret's name sits beside its value instead of being its key: a name/value
 * object, a list of [name, value] pairs, a flag item followed by its value in an argument list.
 * Each answers the key-name rule that masks the value, or whether the shape applies.
 */
import { CLIENT_PASSWORD_FLAGS, type ClientPasswordFlags } from './catalog/client-flags.js';
import type { MaskPlan } from './plan.js';

/**
 * A name/value pair that names a secret (`{"name": "API_KEY", "value": "…"}`: Kubernetes `env`,
 * ECS `environment`, AWS tags, form fields, CloudFormation's `ParameterKey`/`ParameterValue`,
 * Elastic Beanstalk's `OptionName`/`Value`): the rule the name matches, masking the value
 * properties (isNamedValueKey).
 */
export function namedValueRule(o: Record<string, unknown>, plan: MaskPlan): string | undefined {
  if (!('value' in o || 'Value' in o || 'ParameterValue' in o)) return undefined;
  const name = o.name ?? o.Name ?? o.key ?? o.Key ?? o.ParameterKey ?? o.OptionName;
  return typeof name === 'string' && name.length <= 128 ? plan.keys.match(name) : undefined;
}

/** The properties a name/value pair's name masks. */
export const isNamedValueKey = (key: string): boolean => key === 'value' || key === 'Value' || key === 'ParameterValue';

/** Whether every item is a two-item array with a string first: a list of [name, value] pairs. */
export function isPairList(arr: readonly unknown[]): boolean {
  if (arr.length === 0) return false;
  for (const e of arr) if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string') return false;
  return true;
}

/** The key-name rule of a whole-item flag (`--db-password`, `-storepass`), if it names one. */
export function flagRule(s: string, plan: MaskPlan): string | undefined {
  return s.length <= 66 && FLAG_ITEM.test(s) ? plan.keys.match(s.replace(LEADING_DASHES, '')) : undefined;
}
const FLAG_ITEM = /^--?[A-Za-z][\w.-]{0,63}$/;
const LEADING_DASHES = /^-+/;

/** The client an argv starts with (its first item, a path or a name), and its password flags. */
const CLIENTS: ReadonlyMap<string, ClientPasswordFlags> = new Map(CLIENT_PASSWORD_FLAGS.flatMap((c) => c.names.map((n) => [n, c] as const)));

export function clientFlags(first: unknown): ClientPasswordFlags | undefined {
  if (typeof first !== 'string' || first.length > 256) return undefined;
  const slash = first.lastIndexOf('/');
  return CLIENTS.get(slash === -1 ? first : first.slice(slash + 1));
}

/**
 * Where the password starts inside an argv item of `client`, after item `prev`: after the flag
 * glued to it (`-p<pw>`), after the `%` of `user%<pw>` (after `-U`, or glued to it); -1 when the
 * item holds none. (A whole item after `client.next` is the flag rule's case: value-masker.ts.)
 */
export function clientPasswordStart(client: ClientPasswordFlags, item: string, prev: unknown): number {
  const dash = item.charCodeAt(0) === 45; /* - */
  const g = client.glued;
  if (dash && g !== undefined && item.length > g.length && item.startsWith(g)) return g.length;
  const u = client.userPercent;
  if (u !== undefined) {
    const from = prev === u && !dash ? 0 : dash && item.startsWith(u) ? u.length : -1;
    const at = from < 0 ? -1 : item.indexOf('%', from + 1);
    if (at !== -1 && at + 1 < item.length) return at + 1;
  }
  return -1;
}
