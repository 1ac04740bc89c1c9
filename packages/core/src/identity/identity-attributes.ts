import type { Attributes } from '@opentelemetry/api';
import { AuditConfigError } from '../contract/errors.js';
import { checkKeys } from '../contract/option-keys.js';
import * as sc from '../contract/semconv.js';
import type { EncodeContext, PayloadEncoder } from '../payload/payload-encoder.js';
import type { RunIdentity, RunIdentityInput } from './run-context.js';

/** An encoder with a path for correlation values (the masking encoder has one). */
interface CorrelationEncoder {
  correlation(value: string, ctx: EncodeContext): string;
}

function hasCorrelation(encoder: PayloadEncoder): encoder is PayloadEncoder & CorrelationEncoder {
  return typeof (encoder as Partial<CorrelationEncoder>).correlation === 'function';
}

/**
 * A correlation value (docs/span-schema.md, sc.CORRELATION_ATTRIBUTES): scanned by the value
 * detectors, never masked by a key-name rule. An encoder without a correlation path gets the
 * value as text with no key (so no key-name rule either). Fails closed: the marker, never the value.
 */
export function correlationText(encoder: PayloadEncoder, value: string, ctx: Omit<EncodeContext, 'field' | 'key'>): string {
  try {
    const full: EncodeContext = { ...ctx, field: 'identity' };
    return hasCorrelation(encoder) ? encoder.correlation(value, full) : encoder.text(value, full);
  } catch {
    return sc.MASKING_FAILED_MARKER;
  }
}

/** A name to add to `attrs` that no earlier entry holds: two names can mask to the same token. */
export function freeName(attrs: Attributes, name: string): string {
  let out = name;
  for (let n = 2; attrs[out] !== undefined; n++) out = `${name} #${n}`;
  return out;
}

/**
 * Identity attributes can hold personal data (an email as principal id), so they are masked.
 * Run ids, agent names/ids and the principal type are correlation keys: the value detectors scan
 * them (a planted address is masked), no key-name rule does. Run attribute keys are scanned too.
 * Computed once per run (the caller caches), so nothing here is paid per call.
 */
export function identityAttributes(run: RunIdentity, encoder: PayloadEncoder): Attributes {
  // Fails closed like every payload: an encoder that throws gives the marker, never the value.
  const text = (v: string, key?: string): string => {
    try {
      return encoder.text(v, { tool: '', field: 'identity', key });
    } catch {
      return sc.MASKING_FAILED_MARKER;
    }
  };
  const id = (v: string): string => correlationText(encoder, v, { tool: '' });
  const attrs: Attributes = {};
  for (const [k, v] of Object.entries(run.attributes)) {
    let value = v;
    if (typeof v === 'string') value = text(v, k);
    else if (typeof v === 'number') {
      // A number under a secret key name (`pin`, `cvv`) is masked like a string; others stay numbers.
      const masked = text(String(v), k);
      if (masked !== String(v)) value = masked;
    }
    // The key is data too (an address used as a key, `password=...`): value detectors and key=value.
    attrs[freeName(attrs, `${sc.ATTR_RUN_ATTRIBUTE_PREFIX}${text(k)}`)] = value;
  }
  attrs[sc.ATTR_RUN_ID] = id(run.runId);
  if (run.parentRunId !== undefined) attrs[sc.ATTR_RUN_PARENT_ID] = id(run.parentRunId);
  attrs[sc.ATTR_USER_ID] = text(run.principal.id);
  if (run.principal.type !== undefined) attrs[sc.ATTR_PRINCIPAL_TYPE] = id(run.principal.type);
  if (run.agent?.name !== undefined) attrs[sc.ATTR_GEN_AI_AGENT_NAME] = id(run.agent.name);
  if (run.agent?.id !== undefined) attrs[sc.ATTR_GEN_AI_AGENT_ID] = id(run.agent.id);
  if (run.conversationId !== undefined) attrs[sc.ATTR_GEN_AI_CONVERSATION_ID] = text(run.conversationId);
  return attrs;
}

const IDENTITY_KEYS: readonly string[] = ['principal', 'agent', 'conversationId', 'runId', 'attributes'];
const PRINCIPAL_KEYS: readonly string[] = ['id', 'type'];
const AGENT_KEYS: readonly string[] = ['name', 'id'];

export function checkIdentity(input: RunIdentityInput): void {
  const issues: string[] = [];
  if (typeof input !== 'object' || input === null) issues.push('identity must be an object');
  else {
    checkKeys(input, IDENTITY_KEYS, '', issues);
    if (typeof input.principal === 'object' && input.principal !== null) checkKeys(input.principal, PRINCIPAL_KEYS, 'principal.', issues);
    if (input.agent !== undefined) {
      if (typeof input.agent !== 'object' || input.agent === null) issues.push('agent, when given, must be an object');
      else checkKeys(input.agent, AGENT_KEYS, 'agent.', issues);
    }
    if (input.attributes !== undefined) {
      if (typeof input.attributes !== 'object' || input.attributes === null) issues.push('attributes, when given, must be an object of strings, numbers and booleans');
      else {
        for (const [k, v] of Object.entries(input.attributes)) {
          if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') issues.push(`attributes.${k} must be a string, a number or a boolean`);
        }
      }
    }
    const p = input.principal as unknown;
    if (typeof p !== 'object' || p === null || typeof (p as { id?: unknown }).id !== 'string' || (p as { id: string }).id.trim() === '') {
      issues.push('principal.id must be a non-empty string (who this run acts for)');
    }
    if (input.runId !== undefined && (typeof input.runId !== 'string' || input.runId.trim() === '')) {
      issues.push('runId, when given, must be a non-empty string');
    }
  }
  if (issues.length > 0) throw new AuditConfigError('invalid run identity', issues);
}
