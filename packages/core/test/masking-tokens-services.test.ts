import { describe, expect, it } from 'vitest';
// secrets-corpus first: it loads the services corpus, which uses its fakeRandom.
import { fakeRandom, type Planted } from './fixtures/secrets-corpus.js';
import { SERVICE_DETECTED } from './fixtures/secrets-corpus-services.js';
import { createMaskingEncoder, type EncodeReport } from '../src/index.js';
import { EncodeReport as Report } from '../src/payload/encode-report.js';
import { SERVICE_TOKEN_DETECTORS } from '../src/payload/masking/catalog/tokens-services.js';

// A payload cap above the hostile inputs' size, so what comes back is what the scanner left.
const enc = createMaskingEncoder({ hashKey: 'services-test-hmac-key-0123456789', maxPayloadBytes: 1_000_000 }, { logger: { warn() {} } });

function mask(value: unknown): { json: string; report: EncodeReport } {
  const report = new Report();
  const json = enc.json(value, { tool: 't', field: 'arguments', report });
  return { json, report };
}

const inContext = (p: Planted, s: string) => (p.context === undefined ? s : p.context.replace('{}', s));
const HEX = '0123456789abcdef';
const hex = (n: number, seed: number) => fakeRandom(n + 3, seed, HEX).slice(3);

describe('service token detectors', () => {
  it('have unique snake_case ids, a literal or contains gate, and a corpus entry each', () => {
    const ids = SERVICE_TOKEN_DETECTORS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of SERVICE_TOKEN_DETECTORS) {
      expect(d.id).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(['literal', 'contains']).toContain(d.gate);
      expect(d.strategy === 'redact' || d.id === 'twilio_account_sid').toBe(true);
    }
    const covered = new Set(SERVICE_DETECTED.map((p) => p.kind));
    expect(ids.filter((id) => !covered.has(id))).toEqual([]);
    expect([...covered].filter((k) => !ids.includes(k))).toEqual([]);
  });

  it('mask every corpus value alone, in prose, in parentheses, as an object key and inside JSON, under its own kind', () => {
    for (const p of SERVICE_DETECTED) {
      const text = inContext(p, p.value);
      const forms: [string, unknown][] = [
        ['alone', { note: text }],
        ['prose', { note: `Please use ${text} for this, thanks.` }],
        ['parens', { note: `(${text})` }],
        ['line', { note: `line one\n${text}\nline three` }],
        ['key', { [text]: null }],
        ['json', { body: JSON.stringify({ provider: 'x', value: text, n: 3 }) }],
        ['deep', { a: [{ b: { c: [text] } }] }],
      ];
      for (const [form, value] of forms) {
        const { json, report } = mask(value);
        for (const needle of p.needles ?? [p.value]) expect(json, `${p.kind} ${form}`).not.toContain(needle);
        expect(report.kinds, `${p.kind} ${form}`).toEqual([p.kind]);
        expect(report.masked, `${p.kind} ${form}`).toBe(1);
      }
    }
  });

  it('redact tokens and hash the Twilio account id, keeping the label of labelled keys', () => {
    const key = SERVICE_DETECTED.find((p) => p.kind === 'sendgrid_api_key') as Planted;
    expect(JSON.parse(mask(`key ${key.value} end`).json)).toBe('key [REDACTED:sendgrid_api_key] end');
    const sid = SERVICE_DETECTED.find((p) => p.kind === 'twilio_account_sid') as Planted;
    expect(JSON.parse(mask(`account ${sid.value}`).json)).toMatch(/^account \[twilio_account_sid:[0-9a-f]{12}\]$/);
    const dd = SERVICE_DETECTED.find((p) => p.kind === 'datadog_api_key') as Planted;
    expect(JSON.parse(mask(`DD-API-KEY: ${dd.value}`).json)).toBe('DD-API-KEY: [REDACTED:datadog_api_key]');
    const cohere = SERVICE_DETECTED.find((p) => p.kind === 'cohere_api_key') as Planted;
    expect(JSON.parse(mask(`using cohere: ${cohere.value} now`).json)).toBe('using cohere: [REDACTED:cohere_api_key] now');
  });

  it('leave near-misses unchanged', () => {
    const h32 = hex(32, 901);
    const nearMisses = [
      'See SG. Smith at the SG. office; version SG.1.2.3 shipped.',
      `SG.${'a'.repeat(22)}.${'b'.repeat(43)}`, // no mixed case: a placeholder, not a key
      'Order SKU-1234567 and SKU5566778899 arrived; ASK the TASK owner.',
      `git ${h32} and md5 ${h32}`, // 32 hex without a prefix
      `SK${hex(40, 902)}`, // 40 hex after SK: a SHA-1, not a Twilio key
      `SK${'0'.repeat(32)}`,
      'ACCOUNT ACME ACCESS_DENIED BACKUP',
      'a key-value store; key-' + 'managementserviceconfigurations',
      `key-${h32.toUpperCase().replace(/[0-9]/g, 'G')}`,
      'pubkey-abc and key-12345',
      `order ${h32}-us-east-1 in en-us and ${h32.slice(0, 30)}-us12`,
      'hf_hub_download and hf_transformersmodelcheckpointloader',
      `hf_${'abcdefghij'.repeat(3)}abcd`, // lowercase only: an identifier
      'GOCSPX-test-secret and GOCSPX-xxxxx',
      '1//0 is not a token, nor 1//0abc',
      'gsk_short r8_tiny pplx-demo xai-grok-2 sk-or-v1-demo lsv2_pt_test',
      'NRAK-DEMO NRJS-demo NRAL is an abbreviation',
      `${hex(36, 903)}NRALX`,
      'sntryu_short sntrys_eyJub3RqdXN0 glc_placeholder glsa_short',
      'dt0c01.ABC.DEF hcaik_xxxxxxxxxxxx phx_YOUR_PERSONAL_KEY_HERE',
      'lin_api_key_name ntn_123 secret_name secret_key_base',
      `path/to/pattern.${hex(64, 904)}`,
      'patterns and paths: patternMatchingEngine.dispatcher',
      'PMAK-1234 pat-na1-notauuid CFPAT-short tfp_short',
      'Asana task 1/2 done; 2/3 of 1/1204567890123456 pages',
      'EAAA EAAG-notes EZAK-1 rzp_live_short shippo_live_demo',
      'FLWSECK_TEST-short access_token$production$demo access-sandbox-notauuid',
      'Postmark sent 12345 mails; postmark id 3f2c1d4e',
      'Datadog dashboards on DD_SITE=datadoghq.eu, DD_API_KEY unset',
      'cohere: tiny-model mistral: mistral-large-latest zendesk: ticket 4711',
      'Mailgun delivered 23 messages to the mailgun route',
      '123456789:ABCdef and 12:AA short',
      'MTIz.abc.def and OTP codes; NT status; MzQ1.xyz',
      'https://discord.com/api/webhooks/123/abc and https://hooks.zapier.com/hooks/catch/',
      'sk.eyJub3Rh.short and sk.learn pipelines',
      `ID ${Buffer.from('hello world, not an id').toString('base64').replace(/=+$/, '')}.abcdef.${'x'.repeat(27)}`,
    ];
    for (const text of nearMisses) {
      const { json, report } = mask({ note: text });
      expect(JSON.parse(json).note, text).toBe(text);
      expect(report.masked, text).toBe(0);
    }
  });

  it('finish on 100 KB of hostile near-misses without masking them', () => {
    const repeat = (unit: string) => unit.repeat(Math.ceil(100_000 / unit.length)).slice(0, 100_000);
    const hostile = [
      repeat('SG.'),
      repeat('SG.aaaaaaaaaaaaaaaaaaaaa.'),
      repeat('SK0123456789abcdef '),
      repeat('SKSKSKSK'),
      repeat('ACACAC0123'),
      repeat('key-0123456789abcdef0123456789abcde '),
      repeat('0123456789abcdef-us'),
      repeat('mailgun 0123456789abcdef0123456789abcdef-0123456-'),
      repeat('hf_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa '),
      'hf_' + 'a'.repeat(99_997),
      repeat('MTMjMzNDNTNjNzODOT'),
      'MT' + 'A'.repeat(99_998),
      repeat('MTAyMzQ1Njc4OTAxMjM0NTY3.abcdef.'),
      repeat('1234567890:AA'),
      repeat(':AA:AB'),
      repeat('1/1/2/0/'),
      '1/' + '1'.repeat(99_998),
      repeat('2/12345678901/12345678901:'),
      repeat('pat'),
      'pat' + 'a'.repeat(99_997),
      repeat('glc_'),
      'glc_' + 'A'.repeat(99_996),
      'sntrys_eyJ' + 'A'.repeat(99_990),
      'eyJrIjoi' + 'a'.repeat(99_992),
      repeat('datadog: '),
      'datadog' + '_'.repeat(99_993),
      repeat('postmark= '),
      repeat('cohere:cohere:'),
      repeat('EAAG'),
      'EAAG' + 'a'.repeat(99_996),
      repeat('1//0'),
      '1//0' + '-'.repeat(99_996),
      repeat('sk.eyJ'),
      'sk.eyJ' + 'a'.repeat(99_994),
      repeat('NRAL'),
      repeat('0123456789abcdefNRAL'),
      repeat('https://discord.com/api/webhooks/'),
      repeat('access_token$production$'),
    ];
    for (const text of hostile) {
      const { json, report } = mask({ note: text });
      expect(JSON.parse(json).note === text, text.slice(0, 40)).toBe(true);
      expect(report.masked, text.slice(0, 40)).toBe(0);
    }
  });
});
