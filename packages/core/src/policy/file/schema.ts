/**
 * The policy file's schema, in zod. The published JSON Schema is generated from it
 * (`scripts/policy-schema.mjs`), so the file format has one definition. Every object is
 * strict: an unknown key is an error, because a misspelt `when` or `decide` would otherwise
 * silently widen the rule.
 */
import { z } from 'zod';

const ID = /^[A-Za-z0-9_.-]{1,128}$/;
/** A dotted argument path: non-empty segments, array indexes as digits. */
const DOTTED_PATH = /^[^.]+(\.[^.]+)*$/;

export const MAX_RULES = 10_000;
export const MAX_WHEN_CHARS = 4_096;
export const MAX_PATTERNS = 256;

const id = z.string().regex(ID, 'must match [A-Za-z0-9_.-]{1,128}');
const reason = z.string().max(1_024);
const description = z.string().max(4_096).optional();
const tools = z
  .array(z.string().min(1).max(256))
  .min(1)
  .max(MAX_PATTERNS)
  .describe('Glob patterns on the tool name: * any run of characters, ? one character.');
const when = z.string().min(1).max(MAX_WHEN_CHARS).describe('A CEL expression that must evaluate to a bool.').optional();
const dottedPath = z.string().max(512).regex(DOTTED_PATH, 'must be a dotted argument path like a.b.0');

const base = {
  id,
  description,
  tools,
  when,
  reason: reason.optional(),
};

const plainRule = (decide: 'allow' | 'deny' | 'ask') => z.strictObject({ ...base, decide: z.literal(decide) });

const rewriteRule = z
  .strictObject({
    ...base,
    decide: z.literal('rewrite'),
    set: z
      .record(dottedPath, z.unknown())
      .describe('Dotted argument path -> the new value (any JSON value).')
      .optional(),
    remove: z.array(dottedPath).max(MAX_PATTERNS).describe('Dotted argument paths to delete.').optional(),
  })
  .refine((r) => Object.keys(r.set ?? {}).length + (r.remove?.length ?? 0) > 0, {
    message: 'a rewrite rule needs set or remove',
  });

export const policyRuleSchema = z.discriminatedUnion('decide', [
  plainRule('allow'),
  plainRule('deny'),
  plainRule('ask'),
  rewriteRule,
]);

export const policyDocumentSchema = z
  .strictObject({
    $schema: z.string().optional(),
    id,
    description,
    default: z.enum(['allow', 'deny']).describe('The decision when no rule applies.'),
    rules: z.array(policyRuleSchema).max(MAX_RULES),
  })
  .superRefine((doc, ctx) => {
    const seen = new Set<string>();
    doc.rules.forEach((rule, i) => {
      if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id ${rule.id}` });
      seen.add(rule.id);
    });
  });

/** The JSON Schema of the policy file, as published in the package and in docs/. */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(policyDocumentSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  return {
    $schema: schema.$schema,
    title: 'tooltrail policy file',
    description: 'Rules a security team owns outside agent code: match tools by name, decide allow, deny, rewrite or ask, with CEL conditions over normalised facts.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}
