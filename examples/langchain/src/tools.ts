import { tool } from '@langchain/core/tools';
import { deny } from '@tooltrail/core';
import { auditLangChainTools } from '@tooltrail/langchain';
import { z } from 'zod';

/** What the booking tool actually did: the trail must agree with this list. */
export const bookings: { flight: string; passengers: number; budget: number }[] = [];

// Ordinary LangChain tools, written as if tooltrail did not exist.
export const searchFlights = tool(
  async ({ from, to }) => ({ flights: [`${from}-${to} 08:15 EUR 420`, `${from}-${to} 17:40 EUR 310`] }),
  {
    name: 'search_flights',
    description: 'Search flights between two airports (IATA codes)',
    schema: z.object({ from: z.string().trim().toUpperCase(), to: z.string().trim().toUpperCase() }),
  },
);

export const bookFlight = tool(
  async (args) => {
    bookings.push(args);
    return `booked ${args.flight} for ${args.passengers} passenger(s)`;
  },
  {
    name: 'book_flight',
    description: 'Book a flight for up to 4 passengers within a budget in EUR',
    schema: z.object({
      flight: z.string(),
      passengers: z.number().int().min(1).max(4).default(1),
      budget: z.number().positive(),
    }),
  },
);

/**
 * The one-line change: the agent gets the audited tools. Bookings over EUR 1000 need a human,
 * so policy denies them before the tool runs; the model reads the denial and carries on.
 */
export const auditedTools = auditLangChainTools([searchFlights, bookFlight], {
  tools: {
    book_flight: {
      policy: [
        (call) => {
          const { budget } = call.args as { budget: number };
          return budget > 1000 ? deny(`budget EUR ${budget} is over the EUR 1000 self-service limit`, { rule: 'travel.budget' }) : undefined;
        },
      ],
    },
  },
});
