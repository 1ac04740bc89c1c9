import { currentCall, type Auditor } from '@tooltrail/core';
import { z } from 'zod';
import { customers, tickets } from './data.js';
import { internalRecipientsOnly } from './policy.js';

export const sentMail: { to: string; subject: string }[] = [];
let traceId: string | undefined;
/** The trace the run's calls were recorded in (seen from inside the first tool call). */
export const firstTraceId = () => traceId;

/** The support agent's tools, each wrapped once: every executed call becomes an audit record. */
export function supportTools(auditor: Auditor) {
  let crmCalls = 0;
  return {
    list_open_tickets: auditor.withAudit(async () => {
      traceId ??= currentCall()?.traceId;
      return tickets.map((t) => ({ ...t }));
    }, {
      name: 'list_open_tickets',
      description: 'List open support tickets',
    }),

    lookup_customer: auditor.withAudit(
      async ({ customer_id }: { customer_id: string }) => {
        // The CRM times out on its first request: the retry shows as attempt 2 in the trail.
        if (++crmCalls === 1) throw new Error('CRM request timed out after 2000 ms');
        const c = customers.find((x) => x.id === customer_id);
        if (!c) throw new Error(`no customer ${customer_id}`);
        return c;
      },
      {
        name: 'lookup_customer',
        description: 'Look up a customer record in the CRM',
        // The model writes ids sloppily; the schema normalises them, and the trail shows both.
        schema: z.object({ customer_id: z.string().trim().toUpperCase().regex(/^C-\d+$/) }),
        retry: { attempts: 3, backoffMs: 20 },
      },
    ),

    export_customers: auditor.withAudit(
      async ({ format }: { format: 'csv' }) =>
        format === 'csv' ? ['id,name,email,phone', ...customers.map((c) => `${c.id},${c.name},${c.email},${c.phone}`)].join('\n') : '',
      { name: 'export_customers', description: 'Export the customer list', schema: z.object({ format: z.literal('csv') }) },
    ),

    send_email: auditor.withAudit(
      async (args: { to: string; subject: string; body: string }) => {
        sentMail.push({ to: args.to, subject: args.subject });
        return { queued: true, messageId: `msg-${sentMail.length}` };
      },
      {
        name: 'send_email',
        description: 'Send an email',
        schema: z.object({ to: z.string().email(), subject: z.string().min(1), body: z.string() }),
        policy: [internalRecipientsOnly],
      },
    ),
  };
}

export type SupportTools = ReturnType<typeof supportTools>;
