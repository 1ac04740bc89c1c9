// Masking cost: encoding a typical 1 KiB argument object with and without masking, and the
// whole wrapped call with masking on, against the core baselines (hand-written span, withAudit
// with masking off).
import { BUILTIN_DETECTOR_IDS, createAuditor, createMaskingEncoder, setDefaultAuditor, toSafeJson } from '@tooltrail/core';
import { compare, fmt, handProvider, handWrittenSpan, median, NullExporter } from './lib.mjs';

const HASH_KEY = 'bench-hmac-key-0123456789abcdef';

/** The catalog before issue 12 (22 detectors): every family added since is switched off to compare. */
const ISSUE_11_CATALOG = new Set([
  'private_key', 'jwt', 'url_credentials', 'bearer', 'basic_auth', 'aws_access_key_id', 'github_token', 'gitlab_token',
  'slack_token', 'stripe_key', 'anthropic_key', 'openai_key', 'google_api_key', 'npm_token', 'aws_secret_access_key',
  'email', 'card', 'iban', 'ssn', 'phone', 'ipv4', 'ipv6',
]);

/** A send_email call as an agent makes it: two addresses, prose, ids, dates, numbers. ~1 KiB of JSON. */
function emailArgs(i, fresh) {
  const n = fresh ? i : i % 50;
  return {
    to: `customer.${n}@example.com`,
    cc: [`account-manager.${n % 7}@example.com`],
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
  };
}

/** A few KiB of ordinary English prose with numbers and dates: every gate should stay shut. */
function prose(i) {
  return {
    report:
      `On 2026-11-${10 + (i % 18)} the team shipped release 4.${i % 9}.2 to 1,240 customers in 38 countries. Tickets ` +
      `rose by ${12 + (i % 7)}% in the first week, mostly questions about invoices and the new dashboard; median ` +
      'response time fell from 4.2 hours to 2.9 hours, and the backlog was cleared by Friday afternoon. ' +
      `Order volume reached ${48_000 + (i % 1000)} orders, with refunds at 1.8% of revenue (EUR 129.90 on average), ` +
      'and the survey that closed on 30 November had 612 answers, most of them asking for exports and a dark theme. '.repeat(6),
  };
}

const fullWidth = (s) => [...s].map((c) => (c === ' ' ? '\u3000' : c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');

/** The 1 KiB object with its text full-width (as CJK input methods write it) and percent-encoded (as URLs carry it). */
function encodedArgs(i) {
  const a = emailArgs(i, false);
  return {
    ...a,
    subject: fullWidth(a.subject),
    body: `${a.body.slice(0, 200)} ${fullWidth(a.body.slice(200))}`,
    signature: encodeURIComponent(a.signature),
    metadata: { ...a.metadata, returnUrl: `https://example.org/refunds?order=${48_000 + (i % 1000)}&note=${encodeURIComponent('Rückerstattung für Jürgen')}` },
  };
}

// The issue's reference point: a naive recursive walk running ten regexes over every string.
const NAIVE_PATTERNS = [
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g,
  /\b(?:\d[ -]?){12,18}\d\b/g,
  /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g,
  /\b\d{3}-\d{2}-\d{4}\b/g,
  /\+?\d{1,3}[ .-]?\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{3,4}/g,
  /\b(?:\d{1,3}\.){3}\d{1,3}\b/g,
  /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*/g,
  /-----BEGIN[\s\S]*?PRIVATE KEY-----[\s\S]*?-----END[^-]*-----/g,
  /[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:[^\s@/]+@/gi,
  /\bBearer\s+[\w.~+/-]+=*/gi,
];
const NAIVE_KEYS = new Set(['password', 'secret', 'token', 'api_key', 'apikey', 'authorization', 'cookie', 'ssn', 'cvv', 'card_number']);
function naiveWalk(v) {
  if (typeof v === 'string') {
    let s = v;
    for (const re of NAIVE_PATTERNS) s = s.replace(re, '[REDACTED]');
    return s;
  }
  if (Array.isArray(v)) return v.map(naiveWalk);
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = NAIVE_KEYS.has(k.toLowerCase()) ? '[REDACTED]' : naiveWalk(x);
    return out;
  }
  return v;
}

/** Like lib.compare() for synchronous work: no await per call, which would dwarf a few µs. */
function compareSync(variants, { rounds = 25, iterations = 20_000, warmup = 3 } = {}) {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < rounds + warmup; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      if (global.gc) global.gc();
      let sink = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) sink += fn(i).length;
      const us = Number(process.hrtime.bigint() - t0) / 1_000 / iterations;
      if (sink === 0) throw new Error('nothing encoded');
      if (r >= warmup) samples[name].push(us);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

/**
 * BENCH_MASKING_PREVIOUS=<path to a core build's dist/index.js>: that build's encoder timed in
 * the same rounds, so the ratio to plain JSON is compared with the last release in one run.
 */
const PREVIOUS = process.env.BENCH_MASKING_PREVIOUS;

/**
 * This build's dist copied to bench/.cache and imported from there: its encoder then has a module
 * to itself, as the previous build's has. The package import is shared by every encoder timed
 * here (the fresh-address pool among them), which alone read ~10% slower than the same build
 * loaded by path: compare builds both loaded by path.
 */
async function isolatedCurrentBuild() {
  const { cpSync, rmSync } = await import('node:fs');
  const { fileURLToPath, pathToFileURL } = await import('node:url');
  const dist = fileURLToPath(new URL('../packages/core/dist/', import.meta.url));
  const copy = fileURLToPath(new URL(`./.cache/core-current-${process.pid}/dist/`, import.meta.url));
  rmSync(copy, { recursive: true, force: true });
  cpSync(dist, copy, { recursive: true });
  process.once('exit', () => rmSync(new URL('..', pathToFileURL(copy)), { recursive: true, force: true }));
  return import(pathToFileURL(`${copy}index.js`).href);
}

export async function benchMasking() {
  // 1. Encoding alone.
  const repeatPool = Array.from({ length: 1000 }, (_, i) => emailArgs(i, false));
  const freshPool = Array.from({ length: 20_000 }, (_, i) => emailArgs(i, true));
  const bytes = Buffer.byteLength(toSafeJson(repeatPool[0]));
  const encoder = createMaskingEncoder({ hashKey: HASH_KEY });
  const newFamilies = [...BUILTIN_DETECTOR_IDS].filter((id) => !ISSUE_11_CATALOG.has(id));
  const oldCatalog = createMaskingEncoder({ hashKey: HASH_KEY, disable: newFamilies });
  const previous = PREVIOUS ? (await import(PREVIOUS)).createMaskingEncoder({ hashKey: HASH_KEY }) : undefined;
  const isolated = PREVIOUS ? (await isolatedCurrentBuild()).createMaskingEncoder({ hashKey: HASH_KEY }) : undefined;
  const ctx = { tool: 'send_email', field: 'arguments' };
  const prosePool = Array.from({ length: 1000 }, (_, i) => prose(i));
  const encodedPool = Array.from({ length: 1000 }, (_, i) => encodedArgs(i));
  const proseBytes = Buffer.byteLength(toSafeJson(prosePool[0]));
  const encodedBytes = Buffer.byteLength(toSafeJson(encodedPool[0]));
  const enc = compareSync({
    plain: (i) => toSafeJson(repeatPool[i % 1000]),
    naive: (i) => JSON.stringify(naiveWalk(repeatPool[i % 1000])),
    masked: (i) => encoder.json(repeatPool[i % 1000], ctx),
    maskedOld: (i) => oldCatalog.json(repeatPool[i % 1000], ctx),
    ...(previous ? { maskedPrevious: (i) => previous.json(repeatPool[i % 1000], ctx), prosePrevious: (i) => previous.json(prosePool[i % 1000], ctx) } : {}),
    ...(isolated ? { maskedIsolated: (i) => isolated.json(repeatPool[i % 1000], ctx), proseIsolated: (i) => isolated.json(prosePool[i % 1000], ctx) } : {}),
    // A new address every call: one HMAC per address, no token cache hit.
    fresh: (i) => encoder.json(freshPool[i % 20_000], ctx),
    prosePlain: (i) => toSafeJson(prosePool[i % 1000]),
    proseMasked: (i) => encoder.json(prosePool[i % 1000], ctx),
    proseMaskedOld: (i) => oldCatalog.json(prosePool[i % 1000], ctx),
    encodedPlain: (i) => toSafeJson(encodedPool[i % 1000]),
    encodedMasked: (i) => encoder.json(encodedPool[i % 1000], ctx),
  });

  // 2. The whole wrapped call.
  const tool = async (a) => ({ queued: true, to: a.to });
  // The core suite's baseline: one span with the attributes tooltrail records, no masking.
  const provider = handProvider();
  const hand = handWrittenSpan(provider.getTracer('hand'), tool);
  const make = (masking) => {
    const exporter = new NullExporter();
    const auditor = createAuditor({ serviceName: 'bench', exporter, runSpans: false, masking });
    setDefaultAuditor(undefined);
    return { auditor, audited: auditor.withAudit(tool, { name: 'send_email' }) };
  };
  const off = make(false);
  const on = make({ hashKey: HASH_KEY });
  const identity = { principal: { id: 'user:42', type: 'user' }, agent: { name: 'support-bot', id: 'bot-7' }, conversationId: 'conv-1' };
  // One run (the identity store is shared): all three variants pay for AsyncLocalStorage alike.
  const calls = await off.auditor.run(identity, () =>
    compare({
      hand: (i) => hand(repeatPool[i % 1000]),
      off: (i) => off.audited(repeatPool[i % 1000]),
      on: (i) => on.audited(repeatPool[i % 1000]),
    }),
  );
  for (const a of [off.auditor, on.auditor]) {
    await a.shutdown();
    const stats = a.stats();
    if (stats.dropped !== 0 || stats.maskingFailures !== 0) throw new Error(`bench lost records: ${JSON.stringify(stats)}`);
  }
  await provider.shutdown();

  return [
    {
      title: `Masking a ${bytes}-byte argument object, per call (µs, median of interleaved rounds)`,
      rows: [
        ['variant', 'µs/call', 'ratio to plain JSON'],
        ['plain JSON (toSafeJson, no masking)', fmt(enc.plain), '1.00'],
        ['naive walk, ten regexes per string (reference)', fmt(enc.naive), (enc.naive / enc.plain).toFixed(2)],
        [`masked, addresses repeat (token cache hits), all ${BUILTIN_DETECTOR_IDS.size} detectors`, fmt(enc.masked), (enc.masked / enc.plain).toFixed(2)],
        [`  the same, only the ${ISSUE_11_CATALOG.size} detectors of issue 11 (${newFamilies.length} switched off)`, fmt(enc.maskedOld), (enc.maskedOld / enc.plain).toFixed(2)],
        ...(isolated ? [['  the same object, this build loaded by path (compare with the next row)', fmt(enc.maskedIsolated), (enc.maskedIsolated / enc.plain).toFixed(2)]] : []),
        ...(previous ? [[`  the same object, build ${PREVIOUS}`, fmt(enc.maskedPrevious), (enc.maskedPrevious / enc.plain).toFixed(2)]] : []),
        ['masked, a new address every call (HMAC each)', fmt(enc.fresh), (enc.fresh / enc.plain).toFixed(2)],
      ],
    },
    {
      title: 'Text the gates and the normalisation pre-check see (µs/call, median; ratio to plain JSON of the same value)',
      rows: [
        ['variant', 'µs/call', 'ratio to plain JSON'],
        [`ordinary English prose, ${proseBytes} bytes, plain JSON`, fmt(enc.prosePlain), '1.00'],
        ['  the same, masked (no gate opens, nothing normalised)', fmt(enc.proseMasked), (enc.proseMasked / enc.prosePlain).toFixed(2)],
        [`  the same, only the ${ISSUE_11_CATALOG.size} detectors of issue 11: what the new families cost prose`, fmt(enc.proseMaskedOld), (enc.proseMaskedOld / enc.prosePlain).toFixed(2)],
        ...(isolated ? [['  the same prose, this build loaded by path', fmt(enc.proseIsolated), (enc.proseIsolated / enc.prosePlain).toFixed(2)]] : []),
        ...(previous ? [[`  the same prose, build ${PREVIOUS}`, fmt(enc.prosePrevious), (enc.prosePrevious / enc.prosePlain).toFixed(2)]] : []),
        [`the 1 KiB object with full-width and percent-encoded text, ${encodedBytes} bytes, plain JSON`, fmt(enc.encodedPlain), '1.00'],
        ['  the same, masked (normalised view scanned too)', fmt(enc.encodedMasked), (enc.encodedMasked / enc.encodedPlain).toFixed(2)],
      ],
    },
    {
      title: `Wrapped call with a ${bytes}-byte argument object (µs/call, median; exporter acknowledges at once)`,
      rows: [
        ['variant', 'µs/call', 'ratio to hand-written span', 'ratio to masking off'],
        ['hand-written OTel span (core baseline)', fmt(calls.hand), '1.00', (calls.hand / calls.off).toFixed(2)],
        ['tooltrail withAudit, masking: false', fmt(calls.off), (calls.off / calls.hand).toFixed(2), '1.00'],
        ['tooltrail withAudit, masking on (default)', fmt(calls.on), (calls.on / calls.hand).toFixed(2), (calls.on / calls.off).toFixed(2)],
      ],
    },
  ];
}
