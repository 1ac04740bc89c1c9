/**
 * Service tokens: chat and mail APIs, payment, AI providers, observability vendors and SaaS
 * tools. Most are found by the fixed prefix every token of the family starts with (gate
 * `literal`); families without one are found only next to their provider's name (gate
 * `contains`). Shapes learnt from public secret-scanning rule sets; see docs/masking.md.
 */
import { looksRandom } from './checks.js';
import { def, type DetectorDef, type MaskStrategy } from './detector-def.js';
import { base64JsonAfter, discordTokenValid, hexTail, mixedCase, randomAfter, randomWithDigitAfter } from './service-checks.js';

type Check = (m: string) => boolean;

/** A prefixed token: found by its literal prefixes, masked whole. */
function prefixed(id: string, literals: string[], minLength: number, pattern: RegExp, validate?: Check, strategy: MaskStrategy = 'redact'): DetectorDef {
  return def({ id, strategy, gate: 'literal', literals, minLength, pattern, ...(validate ? { validate } : {}) });
}

/**
 * A token with no prefix of its own, found only where `needles` (the provider's name in its
 * usual spellings) occur. The generic 40-character detector would claim a 40-character
 * body first, so it is suppressed inside these matches.
 */
function named(id: string, needles: string[], minLength: number, run: number, pattern: RegExp, validate?: Check): DetectorDef {
  return def({
    id,
    strategy: 'redact',
    gate: 'contains',
    needles,
    run,
    minLength,
    pattern,
    ...(pattern.flags.includes('d') ? { group: 1 } : {}),
    ...(validate ? { validate } : {}),
    suppresses: ['aws_secret_access_key'],
  });
}

/**
 * `<label>…: value` / `<label>…=value` (quotes and `\"` allowed, as in JSON held in a string);
 * group 1 is the value. Bounded gaps keep it linear.
 */
function labelled(label: string, value: string): RegExp {
  return new RegExp(`(?:${label})[A-Za-z0-9_.-]{0,30}?["'\\\\]{0,2}[ \\t]{0,4}[:=][ \\t]{0,4}["'\\\\]{0,2}(${value})(?![A-Za-z0-9_-])`, 'dgi');
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** Characters a token is made of: a match must not start or end inside a longer run of them. */
const B = '(?<![A-Za-z0-9_-])';
const E = '(?![A-Za-z0-9_-])';
const re = (body: string): RegExp => new RegExp(`${B}(?:${body})${E}`, 'g');

/** The value's first `n` characters are random hex. */
const hexHead = (n: number): Check => (m) => hexTail(n)(m.slice(0, n));
/** Letters and digits both present after the prefix (bodies drawn from [A-Z0-9] only). */
const alnumAfter = (skip: number): Check => (m) => /[0-9]/.test(m.slice(skip)) && /[A-Za-z]/.test(m.slice(skip));

export const SERVICE_TOKEN_DETECTORS: readonly DetectorDef[] = [
  // ---- chat and mail ----
  prefixed('sendgrid_api_key', ['SG.'], 69, re('SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}'), randomAfter(3)),
  // `SK`/`AC` are ordinary letters: the exact 32-hex body with digits and letters is the test.
  prefixed('twilio_api_key', ['SK'], 34, re('SK[0-9a-fA-F]{32}'), hexTail(32)),
  // An account id, not a secret: hashed so calls of one account correlate.
  prefixed('twilio_account_sid', ['AC'], 34, re('AC[0-9a-fA-F]{32}'), hexTail(32), 'hash'),
  prefixed('mailgun_api_key', ['key-', 'pubkey-'], 36, re('(?:pub)?key-[0-9a-f]{32}'), hexTail(32)),
  // The newer private key and the webhook signing key: 32-8-8 hex, next to Mailgun's name.
  named('mailgun_key', ['mailgun', 'Mailgun', 'MAILGUN'], 50, 50, re('[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}'), hexHead(32)),
  // The datacenter suffix is the anchor (`-us` is a substring, not a prefix: gate `contains`).
  def({
    id: 'mailchimp_api_key',
    strategy: 'redact',
    gate: 'contains',
    needles: ['-us'],
    run: 35,
    minLength: 35,
    pattern: re('[0-9a-f]{32}-us[0-9]{1,2}'),
    validate: hexHead(32),
  }),
  prefixed('brevo_api_key', ['xkeysib-', 'xsmtpsib-'], 89, re('x(?:keysib|smtpsib)-[0-9a-f]{64}-[A-Za-z0-9]{16}')),
  // Postmark's server and account tokens are bare UUIDs: only under a Postmark label.
  named('postmark_token', ['postmark', 'Postmark', 'POSTMARK'], 45, 36, labelled('postmark', UUID)),
  // The first segment is the bot's numeric id in base64, so it starts with one of these pairs.
  prefixed(
    'discord_bot_token',
    ['MT', 'Mj', 'Mz', 'ND', 'NT', 'Nj', 'Nz', 'OD', 'OT'],
    58,
    /(?<![A-Za-z0-9_-]|\d\.)[MNO][A-Za-z0-9]{22,26}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}(?![A-Za-z0-9_-])/g,
    discordTokenValid,
  ),
  prefixed(
    'discord_webhook',
    ['discord.com/api/', 'discordapp.com/api/'],
    111,
    /https:\/\/(?:(?:ptb|canary)\.)?discord(?:app)?\.com\/api\/(?:v[0-9]{1,2}\/)?webhooks\/[0-9]{17,20}\/[A-Za-z0-9_-]{60,68}(?![A-Za-z0-9_-])/g,
  ),
  // `<bot id>:AA<33>`; also inside `api.telegram.org/bot<token>/`.
  def({
    id: 'telegram_bot_token',
    strategy: 'redact',
    gate: 'contains',
    needles: [':AA'],
    run: 44,
    minLength: 44,
    pattern: /(?:(?<=bot)|(?<![A-Za-z0-9_-])(?<![0-9]:))[0-9]{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])/g,
    validate: (m) => mixedCase(m.slice(m.indexOf(':') + 3)),
  }),
  prefixed(
    'microsoft_teams_webhook',
    ['.webhook.office.com/'],
    190,
    /https:\/\/[A-Za-z0-9-]{1,63}\.webhook\.office\.com\/webhookb2\/[0-9a-f-]{36}@[0-9a-f-]{36}\/IncomingWebhook\/[0-9a-f]{32}\/[0-9a-f-]{36}(?:\/[A-Za-z0-9_-]{10,80})?/g,
  ),

  // ---- payment ----
  prefixed(
    'square_token',
    ['EAAA', 'sq0atp-', 'sq0csp-'],
    29,
    re('EAAA[A-Za-z0-9_-]{40,64}|sq0atp-[A-Za-z0-9_-]{22}|sq0csp-[A-Za-z0-9_-]{43}'),
    (m) => mixedCase(m.slice(m.startsWith('EAAA') ? 4 : 7)),
  ),
  prefixed(
    'braintree_access_token',
    ['access_token$production$', 'access_token$sandbox$'],
    70,
    /access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}(?![A-Za-z0-9])/g,
    (m) => hexTail(32)(m),
  ),
  prefixed('razorpay_key', ['rzp_live_', 'rzp_test_'], 23, re('rzp_(?:live|test)_[A-Za-z0-9]{14}'), randomAfter(9)),
  prefixed(
    'flutterwave_secret_key',
    ['FLWSECK-', 'FLWSECK_TEST-'],
    20,
    re('FLWSECK(?:_TEST)?-(?:[0-9a-fA-F]{32}-X|[0-9a-fA-F]{12})'),
    (m) => hexTail(12)(m.endsWith('-X') ? m.slice(0, -2) : m),
  ),
  prefixed('shippo_api_token', ['shippo_live_', 'shippo_test_'], 52, re('shippo_(?:live|test)_[0-9a-fA-F]{40}'), hexTail(40)),
  prefixed('easypost_api_key', ['EZAK', 'EZTK'], 58, re('EZ[AT]K[A-Za-z0-9]{54}'), randomAfter(4)),
  prefixed('plaid_access_token', ['access-sandbox-', 'access-development-', 'access-production-'], 51, re(`access-(?:sandbox|development|production)-${UUID}`)),

  // ---- AI providers ----
  prefixed('huggingface_token', ['hf_', 'api_org_'], 37, re('(?:hf|api_org)_[A-Za-z0-9]{34}'), (m) => mixedCase(m.slice(-34))),
  prefixed('google_oauth_client_secret', ['GOCSPX-'], 35, re('GOCSPX-[A-Za-z0-9_-]{28}'), randomAfter(7)),
  // Refresh tokens (`1//0…`) an OAuth flow hands a tool; access tokens (`ya29.`) are
  // tokens-infra's gcp_access_token.
  prefixed('google_oauth_refresh_token', ['1//0'], 44, /(?<![A-Za-z0-9_-])1\/\/0[A-Za-z0-9_-]{40,}/g, (m) => mixedCase(m.slice(4))),
  prefixed('groq_api_key', ['gsk_'], 56, re('gsk_[A-Za-z0-9]{52}'), randomAfter(4)),
  prefixed('replicate_api_token', ['r8_'], 40, re('r8_[A-Za-z0-9]{37}'), randomAfter(3)),
  prefixed('perplexity_api_key', ['pplx-'], 53, re('pplx-[A-Za-z0-9]{48}'), randomAfter(5)),
  prefixed('xai_api_key', ['xai-'], 84, re('xai-[A-Za-z0-9]{80}'), randomAfter(4)),
  // Longer than `sk-`, so at this prefix the OpenAI detector is not the one flagged.
  prefixed('openrouter_api_key', ['sk-or-v1-'], 73, re('sk-or-v1-[0-9a-f]{64}'), hexTail(64)),
  prefixed('langsmith_api_key', ['lsv2_pt_', 'lsv2_sk_'], 51, re('lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}'), (m) => hexTail(32)(m.slice(0, 40))),
  // Cohere and Mistral keys are bare base62: only under their provider's label.
  named('cohere_api_key', ['cohere', 'Cohere', 'COHERE', 'CO_API_KEY'], 47, 40, labelled('cohere|co_api_key', '[A-Za-z0-9]{40}'), looksRandom),
  named('mistral_api_key', ['mistral', 'Mistral', 'MISTRAL'], 40, 32, labelled('mistral', '[A-Za-z0-9]{32}'), looksRandom),

  // ---- observability ----
  prefixed(
    'newrelic_key',
    ['NRAK-', 'NRII-', 'NRIQ-', 'NRRA-', 'NRJS-'],
    24,
    re('NRAK-[A-Za-z0-9]{27}|NRI[IQ]-[A-Za-z0-9_-]{32}|NRRA-[0-9a-f]{42}|NRJS-[0-9a-f]{19}'),
    alnumAfter(5),
  ),
  // The license key ends in `NRAL` (a suffix: gate `contains`).
  named('newrelic_license_key', ['NRAL'], 40, 40, re('[0-9a-f]{36}NRAL'), hexHead(36)),
  prefixed(
    'sentry_token',
    ['sntryu_', 'sntrys_'],
    71,
    /(?<![A-Za-z0-9_-])(?:sntryu_[0-9a-f]{64}(?![A-Za-z0-9_-])|sntrys_eyJ[A-Za-z0-9+/]{20,800}={0,2}_[A-Za-z0-9+/]{43}(?![A-Za-z0-9+/_-]))/g,
    (m) => (m.startsWith('sntryu_') ? hexTail(64)(m) : base64JsonAfter(7, '_')(m)),
  ),
  prefixed(
    'grafana_token',
    ['glc_', 'glsa_', 'eyJrIjoi'],
    36,
    /(?<![A-Za-z0-9_+-])(?:glc_[A-Za-z0-9+/]{32,800}={0,3}(?![A-Za-z0-9+/=_-])|glsa_[A-Za-z0-9]{32}_[0-9a-fA-F]{8}(?![A-Za-z0-9_-])|(?<!\/)eyJrIjoi[A-Za-z0-9+/]{50,400}={0,3}(?![A-Za-z0-9+/=_-]))/g,
    (m) => (m.startsWith('glsa_') ? mixedCase(m.slice(5, 37)) : base64JsonAfter(m.startsWith('glc_') ? 4 : 0)(m)),
  ),
  prefixed('dynatrace_token', ['dt0c0', 'dt0s0', 'dt0s1'], 96, re('dt0[cs][0-9]{2}\\.[A-Za-z0-9]{24}\\.[A-Za-z0-9]{64}'), alnumAfter(7)),
  prefixed(
    'honeycomb_api_key',
    ['hcaik_', 'hcaic_', 'hcxik_', 'hcxic_', 'hcamk_', 'hcxmk_'],
    64,
    re('hc[ax](?:ik|ic|mk)_[0-9a-z]{58}'),
    alnumAfter(6),
  ),
  // Datadog API (32 hex) and application (40 hex) keys have no prefix: only under a label.
  named(
    'datadog_api_key',
    ['datadog', 'Datadog', 'DATADOG', 'DD_API_KEY', 'DD_APP_KEY', 'DD_APPLICATION_KEY', 'DD-API-KEY', 'DD-APPLICATION-KEY', 'dd-api-key', 'dd-application-key', 'Dd-Api-Key'],
    40,
    32,
    labelled('datadog|dd[_-]api[_-]key|dd[_-]app(?:lication)?[_-]key', '[0-9a-f]{40}|[0-9a-f]{32}'),
    (m) => hexTail(m.length)(m),
  ),
  prefixed('posthog_personal_api_key', ['phx_'], 34, re('phx_[A-Za-z0-9]{30,60}'), randomWithDigitAfter(4)),

  // ---- SaaS ----
  prefixed('linear_api_key', ['lin_api_', 'lin_oauth_'], 48, re('lin_api_[A-Za-z0-9]{40}|lin_oauth_[0-9a-f]{64}'), (m) => (m.startsWith('lin_api_') ? randomAfter(8)(m) : hexTail(64)(m))),
  // `secret_` is an ordinary word: the exact 43-character random body is the test.
  prefixed('notion_token', ['ntn_', 'secret_'], 50, re('ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43}'), (m) => randomWithDigitAfter(m.startsWith('ntn_') ? 15 : 7)(m)),
  // `pat` is an ordinary word: the 14-character id, the dot and 64 hex are the test.
  prefixed('airtable_token', ['pat'], 82, re('pat[A-Za-z0-9]{14}\\.[0-9a-f]{64}'), hexTail(64)),
  prefixed('postman_api_key', ['PMAK-'], 64, re('PMAK-[0-9a-f]{24}-[0-9a-f]{34}'), hexTail(34)),
  // Personal access tokens: `0/<32 hex>` (legacy), `1/<user>:<32 hex>`, `2/<user>/<app>:<32 hex>`.
  // Not inside a path or a version (`/api/1.0/<hex>`, `12:0/…`); after a word's `.` or `:` it is a value.
  prefixed(
    'asana_token',
    ['0/', '1/', '2/'],
    34,
    /(?<![A-Za-z0-9_/-]|[\d:][.:])(?:0\/[0-9a-f]{32}|[12]\/[0-9]{10,20}(?:\/[0-9]{10,20})?:[0-9a-f]{32})(?![A-Za-z0-9_-])/g,
    hexTail(32),
  ),
  named('zendesk_api_token', ['zendesk', 'Zendesk', 'ZENDESK'], 48, 40, labelled('zendesk', '[A-Za-z0-9]{40}'), looksRandom),
  prefixed('typeform_api_token', ['tfp_'], 63, /(?<![A-Za-z0-9_-])tfp_[A-Za-z0-9_.=-]{59}(?![A-Za-z0-9_=-])/g, randomAfter(4)),
  prefixed('contentful_token', ['CFPAT-'], 49, re('CFPAT-[A-Za-z0-9_-]{43}'), randomAfter(6)),
  prefixed('hubspot_token', ['pat-na', 'pat-eu', 'pat-ap'], 44, re(`pat-(?:na|eu|ap)[0-9]-${UUID}`)),
  prefixed(
    'mapbox_secret_token',
    ['sk.eyJ'],
    47,
    /(?<![A-Za-z0-9_-])sk\.eyJ[A-Za-z0-9_-]{20,400}\.[A-Za-z0-9_-]{20,40}(?![A-Za-z0-9_-])/g,
    base64JsonAfter(3, '.'),
  ),
  prefixed('zapier_webhook', ['hooks.zapier.com/hooks/catch/'], 46, /https:\/\/hooks\.zapier\.com\/hooks\/catch\/[0-9]{4,12}\/[A-Za-z0-9]{4,12}\/?/g),
  prefixed('facebook_access_token', ['EAAB', 'EAAC', 'EAAG', 'EAAM'], 104, re('EAA[BCGM][A-Za-z0-9]{100,}'), randomWithDigitAfter(4)),
];
