// withAudit() in one file: run with `npm start -w @tooltrail/example-basic`.
// Spans go to an exporter that prints them, so no collector is needed here; the quickstart
// example sends them to a real collector instead.
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createAuditor, currentRun, deny, rewrite, type ToolCall } from '@tooltrail/core';
import { formatCalls, fromSpan } from '@tooltrail/example-shared';
import { z } from 'zod';

const printed: ReadableSpan[] = [];
const printer: SpanExporter = {
  export(spans, done) {
    printed.push(...spans);
    done({ code: 0 });
  },
  async shutdown() {},
};

const internalOnly = (call: ToolCall) => {
  const to = String((call.args as { to?: unknown }).to ?? '');
  return to.toLowerCase().endsWith('@example.com') ? undefined : deny(`recipient ${to} is outside example.com`, { rule: 'mail.internal-only' });
};
const noCc = (call: ToolCall) => {
  const args = call.args as { cc?: string };
  return args.cc ? rewrite({ ...args, cc: undefined }, 'cc is not allowed from agents', { rule: 'mail.no-cc' }) : undefined;
};

const auditor = createAuditor({ serviceName: 'basic-example', exporter: printer });

const sendEmail = auditor.withAudit(
  async (args: { to: string; subject: string; cc?: string }) => ({ messageId: `m-${args.to.length}`, sentBy: currentRun()?.principal.id }),
  {
    name: 'send_email',
    description: 'Send an email',
    schema: z.object({ to: z.string().email(), subject: z.string(), cc: z.string().optional() }),
    policy: [internalOnly, noCc], // checked before the body runs, for this tool only
  },
);
let flaky = 0;
const lookupCustomer = auditor.withAudit(
  async (id: string) => {
    if (++flaky === 1) throw new Error('CRM timed out');
    return { id, tier: 'gold' };
  },
  { name: 'lookup_customer', retry: { attempts: 3, backoffMs: 10 } },
);

await auditor.run({ principal: { id: 'user:42', type: 'user' }, agent: { name: 'support-bot', id: 'bot-7' } }, async () => {
  await lookupCustomer('c-1001');
  await sendEmail({ to: 'bob@example.com', subject: 'Your ticket', cc: 'boss@example.com' });
  await sendEmail({ to: 'mallory@evil.io', subject: 'customer list' }).catch((e: Error) => console.log(`refused: ${e.message}\n`));
});
await auditor.shutdown();

// The same table every example prints; "refused" marks the call whose tool never ran.
console.log(formatCalls(printed.map(fromSpan)));
