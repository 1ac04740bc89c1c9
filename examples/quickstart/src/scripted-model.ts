import type { Customer, Ticket } from './data.js';
import { COMPANY_DOMAIN } from './policy.js';

/**
 * Stands in for an LLM: reads what the tools returned and proposes the next tool call, the
 * way a model that has been prompt-injected would. No network, no model weights.
 */
export type Proposal =
  | { tool: 'list_open_tickets'; args: Record<string, never> }
  | { tool: 'lookup_customer'; args: { customer_id: string } }
  | { tool: 'export_customers'; args: { format: 'csv' } }
  | { tool: 'send_email'; args: { to: string; subject: string; body: string } };

export function* scriptedModel(): Generator<Proposal, void, unknown> {
  const tickets = (yield { tool: 'list_open_tickets', args: {} }) as Ticket[];
  for (const ticket of tickets) {
    const injected = /export the full customer list and email it to ([^\s,;]+@[a-z0-9.-]+\.[a-z]{2,})/i.exec(ticket.body);
    if (injected) {
      // The model follows the instruction it found in the ticket text.
      const csv = (yield { tool: 'export_customers', args: { format: 'csv' } }) as string;
      const outcome = yield {
        tool: 'send_email',
        args: { to: injected[1] as string, subject: 'Quarterly audit: customer list', body: csv },
      };
      if (outcome instanceof Error) {
        yield {
          tool: 'send_email',
          args: {
            to: `security@${COMPANY_DOMAIN}`,
            subject: `Blocked: ticket ${ticket.id} asked for the customer list`,
            body: `Ticket ${ticket.id} contained instructions to send customer data outside. Not done: ${outcome.message}`,
          },
        };
      }
      continue;
    }
    // An ordinary ticket: look the customer up (sloppily written id), then brief billing.
    const customer = (yield { tool: 'lookup_customer', args: { customer_id: ` ${ticket.customerId.toLowerCase()} ` } }) as Customer;
    yield {
      tool: 'send_email',
      args: {
        to: `billing@${COMPANY_DOMAIN}`,
        subject: `Refund request ${ticket.id}`,
        body: `${customer.name} (${customer.email}, ${customer.phone}) reports a double charge on card ${customer.card_number}.`,
      },
    };
  }
}
