// A/B of the text scanner: the tree's TextScanner against a baseline copy (set SCAN_BASELINE to
// the path of an older text-masker.ts whose imports point at this tree), on the strings of the
// 1 KiB benchmark object, on ordinary prose, and on full-width / percent-encoded text; plus the
// encoder's ratio to plain JSON. Run: npx vitest bench --run packages/core/test/masking-scan.bench.ts
import { bench, describe } from 'vitest';
import { createMaskingEncoder, toSafeJson } from '../src/index.js';
import { BUILTIN_DETECTORS } from '../src/payload/masking/catalog/builtin.js';
import { BUILTIN_KEY_RULES, KeyMatcher } from '../src/payload/masking/key-names.js';
import { TextScanner } from '../src/payload/masking/text-masker.js';
import { Tokenizer } from '../src/payload/masking/tokens.js';

type Scanner = { mask(s: string, r: { add(k: string, l: boolean): void }): string };
type ScannerClass = new (...args: ConstructorParameters<typeof TextScanner>) => Scanner;

const baselinePath = process.env.SCAN_BASELINE;
const Baseline: ScannerClass | undefined = baselinePath ? ((await import(/* @vite-ignore */ baselinePath)) as { TextScanner: ScannerClass }).TextScanner : undefined;

const strategies = { strategyFor: (_k: string, f: 'redact' | 'hash' | 'partial') => f };
const make = (C: ScannerClass) => new C(BUILTIN_DETECTORS, new KeyMatcher(BUILTIN_KEY_RULES), strategies, new Tokenizer(Buffer.from('bench-hmac-key-0123456789abcdef')));
const tally = { add() {} };

const emailArgs = (i: number) => ({
  to: `customer.${i % 50}@example.com`,
  cc: [`account-manager.${i % 7}@example.com`],
  subject: `Your refund for order #${48_000 + (i % 1000)} has been processed`,
  body:
    'Hello Dana,\n\nwe processed the refund of EUR 129.90 for your order on 2026-11-21. The amount will appear ' +
    'on your statement within 5-7 business days, depending on your bank. If anything looks wrong, reply to this ' +
    'message and mention the ticket number below; our team answers within one business day.\n\nKind regards,\n' +
    'The support team',
  signature: 'Sam Porter, Customer Success, ACME Support Ltd., 1 Example Street, London',
  priority: 3,
  tags: ['refund', 'billing', 'eu', 'tier-2'],
  metadata: {
    ticketId: `T-${1000 + (i % 500)}`,
    customerId: `C-${17 + (i % 300)}`,
    locale: 'en-GB',
    channel: 'email',
    max_tokens: 512,
    requestId: '123e4567-e89b-12d3-a456-426614174000',
    commit: '9fceb02d0ae598e95dc970b74767f19372d61af8',
    createdAt: '2026-11-21T12:30:45.123Z',
    retries: 0,
    model: 'support-bot-v3',
  },
  attachments: [{ name: 'invoice-48213.pdf', size: 48_213, contentType: 'application/pdf' }],
});
const stringsOf = (v: unknown, out: string[] = []): string[] => {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringsOf(x, out);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (out.push(k), stringsOf(x, out));
  return out;
};
const objectStrings = Array.from({ length: 100 }, (_, i) => stringsOf(emailArgs(i)));
const prose = Array.from({ length: 20 }, (_, i) =>
  `On 2026-11-${10 + i} the team shipped release 4.${i}.2 to 1,240 customers in 38 countries. Tickets rose by ${12 + i}% ` +
  'in the first week, mostly questions about invoices and the new dashboard; median response time fell from 4.2 hours ' +
  `to 2.9 hours. Order volume reached ${48_000 + i * 17} orders, with refunds at 1.8% of revenue (EUR 129.90 on average). `.repeat(8),
);
const fw = (s: string) => [...s].map((c) => (c === ' ' ? '\u3000' : c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
const encoded = Array.from({ length: 20 }, (_, i) => [
  fw(`Refund for order ${48_000 + i} processed on 2026-11-21`),
  encodeURIComponent(`https://example.org/orders?q=refund ${i}&lang=de&name=Jürgen Müller`),
  `東京都千代田区、２０２５年３月${i + 1}日：会議は１０時から。`,
]);

function suite(name: string, inputs: string[][]) {
  describe(name, () => {
    const scanners: [string, Scanner][] = [['tree', make(TextScanner)]];
    if (Baseline) scanners.push(['baseline', make(Baseline)]);
    for (const [label, sc] of scanners) {
      let i = 0;
      bench(label, () => {
        for (const s of inputs[i++ % inputs.length] as string[]) sc.mask(s, tally);
      });
    }
  });
}
suite('scanner: strings of the 1 KiB object', objectStrings);
suite('scanner: ordinary prose, ~2.5 KiB', prose.map((p) => [p]));
suite('scanner: full-width / percent-encoded / CJK', encoded);

const encoder = createMaskingEncoder({ hashKey: 'bench-hmac-key-0123456789abcdef' }, { logger: { warn() {} } });
const ctx = { tool: 'send_email', field: 'arguments' } as const;
function ratio(name: string, pool: unknown[]) {
  describe(`encoder: ${name}, masked vs plain JSON`, () => {
    let i = 0;
    bench('plain JSON', () => void toSafeJson(pool[i++ % pool.length]));
    let j = 0;
    bench('masked', () => void encoder.json(pool[j++ % pool.length], ctx));
  });
}
const encodedArgs = (i: number) => {
  const a = emailArgs(i);
  return { ...a, subject: fw(a.subject), body: `${a.body.slice(0, 200)} ${fw(a.body.slice(200))}`, signature: encodeURIComponent(a.signature) };
};
ratio('1 KiB object', Array.from({ length: 1000 }, (_, i) => emailArgs(i)));
ratio('prose object', prose.map((report) => ({ report })));
ratio('1 KiB object, full-width and percent-encoded text', Array.from({ length: 1000 }, (_, i) => encodedArgs(i)));
