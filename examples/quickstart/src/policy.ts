import { deny, type ToolCall } from '@tooltrail/core';

export const COMPANY_DOMAIN = 'acme-support.example';

/**
 * Mail may only go to the company's own domain. The address is parsed, not pattern-matched:
 * `x@acme-support.example.evil.io` and `a@evil.io, b@acme-support.example` must not pass.
 */
export function internalRecipientsOnly(call: ToolCall) {
  const to = String((call.args as { to?: unknown }).to ?? '');
  const at = to.lastIndexOf('@');
  const domain = at > 0 && !/[\s,;<>]/.test(to) ? to.slice(at + 1).toLowerCase() : '';
  if (domain === COMPANY_DOMAIN) return undefined;
  return deny(`recipient domain "${domain || to}" is outside ${COMPANY_DOMAIN}`, { rule: 'mail.internal-only' });
}
