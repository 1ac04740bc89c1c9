/**
 * Infrastructure credentials: cloud providers, source hosts, CI, package registries, secret
 * managers and connection strings. Nearly all are found by a fixed prefix (gate `literal`);
 * the few without one need a label in front (`AccountKey=`, `CLOUDFLARE_API_TOKEN=`), written
 * as a lookbehind so only the value is masked. See docs/masking.md for the table.
 */
import { looksRandom } from './checks.js';
import { def, type DetectorDef } from './detector-def.js';
import { base64OfBytes, bech32Valid, decodeBase64Escapes, entropy, nugetKeyValid, randomAfter } from './infra-checks.js';

/**
 * A 40-character base64 body is also what the AWS secret key detector (gate `long`) matches;
 * on the same span the more specific detector names the region.
 */
const SUPPRESSES = ['aws_secret_access_key'];

/** A prefixed token: gate `literal` on its prefixes, masked whole under `redact`. */
function token(id: string, literals: readonly string[], minLength: number, pattern: RegExp, validate?: (m: string) => boolean): DetectorDef {
  return def({ id, strategy: 'redact', gate: 'literal', literals, minLength, pattern, suppresses: SUPPRESSES, ...(validate ? { validate } : {}) });
}

/**
 * `NAME...key = ` in front of a value, as a lookbehind source: env names (`CF_API_TOKEN=`),
 * JSON (`"cloudflare_api_key": "`), YAML (`cloudflareToken: `). Bounded, so linear.
 */
const label = (names: string, words = 'key|token|secret') =>
  `(?<=(?<![A-Za-z0-9])(?:${cases(names)})[A-Za-z0-9_.-]{0,24}(?:${cases(words)})["']?[ \\t]*(?:=|:|=>)[ \\t]*["'\`]?)`;

/** `a|b` as `a|A|b|B` with capitalised forms: labels are written in every case, bodies are not. */
function cases(alternatives: string): string {
  return alternatives
    .split('|')
    .flatMap((w) => [w, w.toUpperCase(), w[0]?.toUpperCase() + w.slice(1)])
    .join('|');
}

/** Body after a prefix: at least mixed case and a digit, as random keys have. */
const mixedAfter = (skip: number) => (m: string) => looksRandom(m.slice(skip));

/**
 * Azure SAS: `sig=` and 43 base64 characters (an HMAC-SHA256, `+/=` possibly percent-encoded)
 * counts only inside a query that also has a SAS field (`sv=`, `se=`, `sp=`, ...) nearby.
 */
const SAS_SIG = /(?:^|[?&;"'\s])sig=((?:[A-Za-z0-9+/]|%2[BbFf]){43}(?:=|%3[Dd])?)(?![A-Za-z0-9+/=%])/dg;
const SAS_FIELD = /(?:^|[?&;])(?:sv|se|sp|st|sr|ss|srt|spr|skoid)=/;
const SAS_WINDOW = 1024;

function* findSas(text: string): Generator<{ start: number; end: number }> {
  SAS_SIG.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = SAS_SIG.exec(text)) !== null) {
    const [start, end] = (m.indices as RegExpIndicesArray)[1] as [number, number];
    const sig = decodeBase64Escapes(text.slice(start, end));
    if (!base64OfBytes(sig.endsWith('=') ? sig : `${sig}=`, 32)) continue;
    const around = text.slice(Math.max(0, start - SAS_WINDOW), Math.min(text.length, end + SAS_WINDOW));
    if (SAS_FIELD.test(around)) yield { start, end };
  }
}

/** Microsoft's identifiable keys: a provider signature at a fixed offset of a fixed length. */
const AZURE_SIGNATURES: readonly [string, number, number][] = [
  // signature, characters before it, total length (88: 64 bytes, 56: 40, 52: 39, 44: 32)
  ...['+ASt', 'ACDb', '+ABa', '+AMC', 'APIM'].map((s): [string, number, number] => [s, 76, 88]),
  ['AzFu', 44, 56],
  ...['AzSe', '+ACR'].map((s): [string, number, number] => [s, 42, 52]),
  ...['AIoT', '+ASb', '+AEh', 'AzCa', '+ARm'].map((s): [string, number, number] => [s, 33, 44]),
];
const AZURE_BYTES: Readonly<Record<number, number>> = { 88: 64, 56: 40, 52: 39, 44: 32 };

function azureIdentifiable(m: string): boolean {
  const hit = AZURE_SIGNATURES.find(([sig, at, len]) => m.length === len && m.startsWith(sig, at));
  return hit !== undefined && base64OfBytes(m, AZURE_BYTES[m.length] as number) && entropy(m) >= 4;
}

/** `(?:^|[;"'])Password=value` in ADO, ODBC and JDBC strings: quoted, braced or up to `;`. */
const CONN_PASSWORD =
  /(?:^|[;"'])[ \t]*(?:password|pwd)[ \t]*=(?![=>])[ \t]*("(?:[^"\r\n]|"")+"|'(?:[^'\r\n]|'')+'|\{(?:[^}\r\n]|\}\})+\}|[^;\s"'{}](?:[^;\r\n"']*[^;\s"'])?)/dgi;

export const INFRA_TOKEN_DETECTORS: readonly DetectorDef[] = [
  // Cloud providers.
  token('aws_session_token', ['FwoGZXIvYXdz', 'IQoJb3JpZ2lu', 'AQoDYXdz'], 108,
    /(?<![A-Za-z0-9+/])(?:FwoGZXIvYXdz|IQoJb3JpZ2lu|AQoDYXdz)(?:[A-Za-z0-9+/]|%2[BbFf]){100,}(?:==?|(?:%3[Dd]){1,2})?/g),
  def({
    id: 'azure_storage_key', strategy: 'redact', gate: 'literal', literals: ['AccountKey', 'accountKey', 'accountkey', 'ACCOUNTKEY'], minLength: 88,
    pattern: /(?<=(?<![A-Za-z0-9])AccountKey["']?[ \t]*[:=][ \t]*["']?)[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])/gi,
    validate: (m) => base64OfBytes(m, 64),
    suppresses: SUPPRESSES,
  }),
  def({
    id: 'azure_shared_access_key', strategy: 'redact', gate: 'literal', literals: ['SharedAccessKey', 'sharedAccessKey', 'sharedaccesskey'], minLength: 44,
    pattern: /(?<=(?<![A-Za-z0-9])SharedAccessKey["']?[ \t]*[:=][ \t]*["']?)[A-Za-z0-9+/]{43}=(?![A-Za-z0-9+/=])/gi,
    validate: (m) => base64OfBytes(m, 32),
    suppresses: SUPPRESSES,
  }),
  def({ id: 'azure_sas_token', strategy: 'redact', gate: 'literal', literals: ['sig='], minLength: 47, find: findSas, suppresses: SUPPRESSES }),
  token('azure_ad_client_secret', ['Q~'], 37,
    // `=` before is an assignment (`?secret=…`), `.` a namespace (`by.<secret>`), `/` a path; a `.`
    // after ends a sentence. (`Q~` never occurs in base64, so a blob cannot hold a false match.)
    /(?<![A-Za-z0-9_~-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~=-]|\.[A-Za-z0-9_~-])/g),
  token('azure_identifiable_key', AZURE_SIGNATURES.map(([s]) => s), 44,
    /(?<![A-Za-z0-9+/_-])(?:[A-Za-z0-9+/]{76}(?:\+ASt|ACDb|\+ABa|\+AMC|APIM)[A-Za-z0-9+/]{6}==|[A-Za-z0-9_-]{44}AzFu[A-Za-z0-9_-]{6}==|[A-Za-z0-9]{42}(?:AzSe|\+ACR)[A-Za-z0-9]{6}|[A-Za-z0-9+/]{33}(?:AIoT|\+ASb|\+AEh|AzCa|\+ARm)[A-Za-z0-9+/]{6}=)(?![A-Za-z0-9+/=_-])/g,
    azureIdentifiable),
  token('azure_devops_pat', ['JQQJ'], 84, /(?<![A-Za-z0-9])[A-Za-z0-9]{52}JQQJ[A-Za-z0-9]{20}AZDO[A-Za-z0-9]{4}(?![A-Za-z0-9])/g,
    (m) => looksRandom(m.slice(0, 52))),
  token('gcp_access_token', ['ya29.'], 40, /(?<![A-Za-z0-9_-])ya29\.[A-Za-z0-9_-]{35,}(?![A-Za-z0-9_-])/g, mixedAfter(5)),
  token('alibaba_access_key_id', ['LTAI'], 16, /(?<![A-Za-z0-9])LTAI[A-Za-z0-9]{12,20}(?![A-Za-z0-9])/g,
    (m) => /[0-9]/.test(m.slice(4)) && entropy(m.slice(4)) >= 3),
  token('digitalocean_token', ['dop_v1_', 'doo_v1_', 'dor_v1_'], 71, /(?<![A-Za-z0-9_])do[por]_v1_[a-f0-9]{64}(?![A-Za-z0-9_])/g, randomAfter(7, 3)),
  def({
    id: 'heroku_api_key', strategy: 'redact', gate: 'literal', literals: ['HRKU-', 'HEROKU', 'heroku', 'Heroku'], minLength: 36,
    // New keys carry a prefix; older ones are UUIDs, masked only behind a Heroku label.
    pattern: new RegExp(`(?<![A-Za-z0-9_-])HRKU-AA[A-Za-z0-9_-]{58}(?![A-Za-z0-9_-])|${label('heroku', 'key|token')}[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![A-Za-z0-9-])`, 'g'),
    suppresses: SUPPRESSES,
  }),
  token('databricks_token', ['dapi'], 36, /(?<![A-Za-z0-9_-])dapi[a-f0-9]{32}(?:-\d{1,2})?(?![A-Za-z0-9_])/g, randomAfter(4, 3)),
  token('cloudflare_api_token', ['cfk_', 'cfut_', 'cfat_', 'v1.0-', 'CLOUDFLARE', 'cloudflare', 'Cloudflare', 'CF_', 'cf_'], 37,
    // Prefixed (2026 on), the origin CA key, and the older unprefixed forms behind a label.
    new RegExp(`(?<![A-Za-z0-9_])(?:cf(?:k|ut|at)_[A-Za-z0-9]{40,56}|v1\\.0-[a-f0-9]{24}-[a-f0-9]{146})(?![A-Za-z0-9_])|${label('cloudflare|cf', 'key|token')}(?:[A-Za-z0-9_-]{40}|[a-f0-9]{37,45})(?![A-Za-z0-9_-])`, 'g'),
    (m) => entropy(m) >= 3),
  token('tailscale_key', ['tskey-'], 40, /(?<![A-Za-z0-9_-])tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6,}-[A-Za-z0-9]{20,}(?![A-Za-z0-9_-])/g,
    (m) => entropy(m.slice(m.lastIndexOf('-') + 1)) >= 3.5),
  // Secret managers and infrastructure as code.
  token('vault_token', ['hvs.', 'hvb.', 'hvr.'], 28, /(?<![A-Za-z0-9_-])hv[sbr]\.[A-Za-z0-9_-]{24,}(?![A-Za-z0-9_-])/g, mixedAfter(4)),
  token('terraform_cloud_token', ['.atlasv1.'], 83, /(?<![A-Za-z0-9])[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}(?![A-Za-z0-9_=-])/g, randomAfter(23, 4)),
  token('pulumi_token', ['pul-'], 44, /(?<![A-Za-z0-9_-])pul-[a-f0-9]{40}(?![A-Za-z0-9_-])/g, randomAfter(4, 3)),
  token('doppler_token', ['dp.pt.', 'dp.st.', 'dp.ct.', 'dp.sa.', 'dp.scim.', 'dp.audit.'], 46,
    /(?<![A-Za-z0-9_-])dp\.(?:pt|st|ct|sa|scim|audit)\.(?:[a-z0-9_-]{2,35}\.)?[A-Za-z0-9]{40,44}(?![A-Za-z0-9_-])/g,
    (m) => looksRandom(m.slice(m.lastIndexOf('.') + 1))),
  token('onepassword_service_account_token', ['ops_eyJ'], 257, /(?<![A-Za-z0-9_])ops_eyJ[A-Za-z0-9+/]{250,}={0,3}/g),
  token('onepassword_secret_key', ['A3-'], 39,
    /(?<![A-Za-z0-9-])A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}(?![A-Za-z0-9-])/g,
    (m) => /[0-9]/.test(m.slice(3)) && entropy(m.slice(3)) >= 3.5),
  token('age_secret_key', ['AGE-SECRET-KEY-1'], 74, /(?<![A-Za-z0-9-])AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}(?![A-Za-z0-9])/g, bech32Valid),
  // Source hosts and CI.
  token('atlassian_api_token', ['ATATT3', 'ATCTT3'], 156, /(?<![A-Za-z0-9_-])AT[AC]TT3[A-Za-z0-9_=-]{150,}(?![A-Za-z0-9_=-])/g, randomAfter(6, 4)),
  token('bitbucket_app_password', ['ATBB'], 36, /(?<![A-Za-z0-9_-])ATBB[A-Za-z0-9]{24,36}(?![A-Za-z0-9_-])/g, randomAfter(4, 3.5)),
  token('sonarqube_token', ['squ_', 'sqp_', 'sqa_'], 44, /(?<![A-Za-z0-9_-])sq[upa]_[a-f0-9]{40}(?![A-Za-z0-9_-])/g, randomAfter(4, 3)),
  token('circleci_token', ['CCIPAT_', 'CCIPRJ_'], 70, /(?<![A-Za-z0-9_-])CCIP(?:AT|RJ)_[A-Za-z0-9]{22}_[a-f0-9]{40}(?![A-Za-z0-9_-])/g, randomAfter(30, 3)),
  token('buildkite_token', ['bkua_'], 45, /(?<![A-Za-z0-9_-])bkua_[a-f0-9]{40}(?![A-Za-z0-9_-])/g, randomAfter(5, 3)),
  token('harness_token', ['pat.', 'sat.'], 71, /(?<![A-Za-z0-9_-])(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}(?![A-Za-z0-9_-]|\.[A-Za-z0-9_-])/g, randomAfter(27, 3.5)),
  token('octopus_deploy_api_key', ['API-'], 30, /(?<![A-Za-z0-9_-])API-[A-Z0-9]{26}(?![A-Za-z0-9_-])/g,
    (m) => /[0-9].*[0-9].*[0-9]/.test(m.slice(4)) && /[A-Z].*[A-Z].*[A-Z]/.test(m.slice(4)) && entropy(m.slice(4)) >= 3.5),
  token('infracost_token', ['ico-'], 36, /(?<![A-Za-z0-9_-])ico-[A-Za-z0-9]{32}(?![A-Za-z0-9_-])/g, mixedAfter(4)),
  // Package and container registries.
  token('docker_hub_token', ['dckr_pat_', 'dckr_oat_'], 36, /(?<![A-Za-z0-9_-])dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,}(?![A-Za-z0-9_-])/g, randomAfter(9, 3.5)),
  token('pypi_token', ['pypi-AgE'], 78, /(?<![A-Za-z0-9_-])pypi-AgE[A-Za-z0-9_-]{70,}(?![A-Za-z0-9_-])/g),
  token('nuget_api_key', ['oy2'], 46, /(?<![A-Za-z0-9])oy2[a-z0-9]{43}(?![A-Za-z0-9])/g, nugetKeyValid),
  token('rubygems_api_key', ['rubygems_'], 57, /(?<![A-Za-z0-9_-])rubygems_[a-f0-9]{48}(?![A-Za-z0-9_-])/g, randomAfter(9, 3)),
  token('crates_io_token', ['cio'], 35, /(?<![A-Za-z0-9_-])cio[A-Za-z0-9]{32}(?![A-Za-z0-9_-])/g, mixedAfter(3)),
  token('clojars_token', ['CLOJARS_'], 68, /(?<![A-Za-z0-9_-])CLOJARS_[A-Za-z0-9]{60}(?![A-Za-z0-9_-])/g, randomAfter(8, 3.5)),
  token('jfrog_token', ['AKCp', 'cmVmdGtu'], 64,
    /(?<![A-Za-z0-9])(?:AKCp[A-Za-z0-9]{69}|cmVmdGtu[A-Za-z0-9]{56})(?![A-Za-z0-9])/g, randomAfter(8, 4)),
  // Hosting and databases.
  token('flyio_token', ['fo1_', 'fm1a_', 'fm1r_', 'fm2_'], 47,
    /(?<![A-Za-z0-9_-])(?:fo1_[A-Za-z0-9_-]{43}|fm(?:1[ar]|2)_[A-Za-z0-9+/]{100,}={0,3})(?![A-Za-z0-9_-])/g, randomAfter(5, 4)),
  token('netlify_token', ['nfp_', 'nfo_', 'NETLIFY', 'netlify', 'Netlify'], 40,
    new RegExp(`(?<![A-Za-z0-9_-])nf[po]_[A-Za-z0-9_]{36}(?![A-Za-z0-9_-])|${label('netlify')}[A-Za-z0-9_-]{40,46}(?![A-Za-z0-9_-])`, 'g'),
    (m) => entropy(m) >= 4 && looksRandom(m)),
  token('vercel_token', ['vcp_', 'vci_', 'vca_', 'vcr_', 'vck_', 'VERCEL', 'vercel', 'Vercel'], 24,
    new RegExp(`(?<![A-Za-z0-9_-])vc[pciark]_[A-Za-z0-9]{24,}(?![A-Za-z0-9_-])|${label('vercel')}[A-Za-z0-9]{24}(?![A-Za-z0-9_-])`, 'g'),
    (m) => looksRandom(m.replace(/^vc[pciark]_/, ''))),
  token('supabase_token', ['sbp_', 'sb_secret_'], 30,
    /(?<![A-Za-z0-9_-])(?:sbp_(?:oauth_)?[a-f0-9]{40}|sb_secret_[A-Za-z0-9_-]{20,64})(?![A-Za-z0-9_-])/g,
    (m) => entropy(m.slice(m.startsWith('sb_') ? 10 : 4)) >= 3),
  token('planetscale_token', ['pscale_tkn_', 'pscale_pw_', 'pscale_oauth_'], 42,
    /(?<![A-Za-z0-9_-])pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=-]{32,64}(?![A-Za-z0-9_=-])/g, (m) => entropy(m.slice(10)) >= 3.5),
  token('shopify_token', ['shpat_', 'shpca_', 'shppa_', 'shpss_'], 38, /(?<![A-Za-z0-9_-])shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}(?![A-Za-z0-9_-])/g, randomAfter(6, 3)),
  def({
    id: 'connection_string_password', strategy: 'redact', gate: 'contains',
    needles: ['Password', 'password', 'PASSWORD', 'PassWord', 'Pwd', 'pwd', 'PWD'], requires: '=', minLength: 10, pattern: CONN_PASSWORD, group: 1, suppresses: SUPPRESSES,
  }),
];
