import { describe, expect, it } from 'vitest';
import { semconv as sc } from '../src/index.js';
import { harness } from './helpers.js';

// Who approved or refused a call is an identity value: masked exactly as a principal's id is,
// never stored in the clear because it came through an adapter rather than the run.
describe('approvers and refusers are masked like identities', () => {
  it('an email as approval.by and refused.by becomes the same token as that email as the principal', async () => {
    const h = harness({ masking: { hashKey: 'approval-masking-key-0123456789ab' } });
    const tool = h.auditor.withAudit(async (n: number) => n, { name: 'pay' });
    await h.auditor.run({ principal: { id: 'carol@example.com' } }, async () => {
      await tool.invokeWith({ approval: { decision: 'approved', by: 'carol@example.com', reason: 'card 4111 1111 1111 1111 checked' } }, 1);
      tool.recordRefused({ kind: 'denied', reason: 'mail bob@example.com refused', by: 'carol@example.com' });
    });
    const [approved, refused] = await h.toolSpans();
    const principal = approved!.attributes[sc.ATTR_USER_ID];
    expect(principal).toMatch(/^\[email:[0-9a-f]{12}\]$/);
    expect(approved!.attributes[sc.ATTR_APPROVAL_BY]).toBe(principal);
    expect(approved!.events.find((e) => e.name === sc.EVENT_APPROVAL)!.attributes![sc.ATTR_APPROVAL_BY]).toBe(principal);
    expect(approved!.attributes[sc.ATTR_APPROVAL_REASON]).toBe('card ****1111 checked');
    expect(refused!.attributes[sc.ATTR_REFUSED_BY]).toBe(principal);
    expect(String(refused!.attributes[sc.ATTR_REFUSED_REASON])).toMatch(/^mail \[email:[0-9a-f]{12}\] refused$/);
    const all = JSON.stringify([approved, refused].map((s) => [s!.attributes, s!.events]));
    expect(all).not.toContain('example.com');
    expect(all).not.toContain('4111 1111');
  });
});
