/**
 * URLs in a string, parsed the way an HTTP client parses them (WHATWG URL, Node's own): so
 * `https://example.com@evil.io` has host `evil.io`, `https://evil.io\@example.com` too, and the
 * host is lower-cased punycode. The path is percent-decoded with dot segments resolved, so a
 * path rule sees `/admin` in `/public/%2e%2e/admin`.
 */
import { posix } from 'node:path';
import { Url } from './fact-classes.js';
import { normaliseDomain } from './emails.js';
import { decodeEntities, foldText, percentDecode } from './text.js';

const DEFAULT_PORTS: Record<string, number> = {
  http: 80, https: 443, ws: 80, wss: 443, ftp: 21, ssh: 22, sftp: 22, git: 9418, smtp: 25, smtps: 465,
  imap: 143, imaps: 993, ldap: 389, ldaps: 636, redis: 6379, rediss: 6379, postgres: 5432, postgresql: 5432,
  mysql: 3306, mongodb: 27017, amqp: 5672, amqps: 5671, nats: 4222, s3: 443, gs: 443,
};

/**
 * A scheme and `://` (or `:\\`); for the schemes a browser treats as special, also `https:host`
 * with no slashes at all, which the WHATWG parser accepts.
 */
const CANDIDATE = /(?<![A-Za-z0-9+.-])(?:(?:https?|wss?|ftp):[/\\]*|[A-Za-z][A-Za-z0-9+.-]{0,31}:[/\\]{2})[^\s<>"'`]+/g;
const TRAILING = /[.,;:!?)\]}'"]+$/;
const URL_KEY = /^(url|urls|uri|uris|href|link|links|endpoint|endpoints|website|site|domain|host|hostname|origin|webhook|callback)$/;
const HOSTLIKE = /^(?:\/\/)?[^\s/\\?#@]*[A-Za-z0-9-]\.[A-Za-z0-9-]+(?::\d+)?(?:[/?#]|$)/;

function decodedPath(pathname: string): string {
  let p = percentDecode(pathname);
  // Decoding can make new dot segments (`..%2f..`): resolve again.
  if (p.startsWith('/')) p = posix.normalize(p);
  return p;
}

export function parseUrl(candidate: string): Url | undefined {
  let u: URL;
  try {
    u = new URL(candidate);
  } catch {
    return undefined;
  }
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  if (scheme === 'mailto' || scheme === 'data' || scheme === 'javascript') return undefined;
  let host = u.hostname;
  // Non-special schemes keep an opaque host: fold it the way a domain rule expects.
  if (host !== '' && !host.startsWith('[')) host = normaliseDomain(percentDecode(host));
  const port = u.port !== '' ? Number(u.port) : (DEFAULT_PORTS[scheme] ?? 0);
  return new Url(u.href, scheme, host, port, decodedPath(u.pathname), u.search.startsWith('?') ? u.search.slice(1) : u.search);
}

/**
 * The IPv4 address an IPv4-mapped IPv6 host reaches (`[::ffff:127.0.0.1]`, which the URL parser
 * writes `[::ffff:7f00:1]`): a rule on `127.0.0.1` must see it, so it is a second fact.
 */
export function mappedIpv4(host: string): string | undefined {
  // The parser writes every spelling (`[0:0:0:0:0:ffff:7f00:1]`, ...) in this one canonical form.
  const m = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(host);
  if (m === null) return undefined;
  const hi = parseInt(m[1] as string, 16);
  const lo = parseInt(m[2] as string, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

function collect(view: string, out: Url[], seen: Set<string>): void {
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(view); m !== null; m = CANDIDATE.exec(view)) {
    const candidate = m[0].replace(TRAILING, '');
    if (seen.has(candidate)) continue;
    seen.add(candidate);
    const url = parseUrl(candidate);
    if (!url) continue;
    out.push(url);
    const v4 = mappedIpv4(url.host);
    if (v4 !== undefined) out.push(new Url(url.url, url.scheme, v4, url.port, url.path, url.query));
  }
}

/**
 * Every URL in `text`. `key` is the argument's name: under `url`, `endpoint`, `host`, ... a
 * value without a scheme that looks like a host (`evil.io/upload`) is read as https.
 */
export function urlsIn(text: string, key: string | undefined): Url[] {
  const out: Url[] = [];
  if (!text.includes(':') && !text.includes('%') && !text.includes('&') && !/[^\x00-\x7f]/.test(text)) {
    if (key === undefined || !URL_KEY.test(key.toLowerCase()) || !HOSTLIKE.test(text.trim())) return out;
  }
  const view = foldText(decodeEntities(text));
  const seen = new Set<string>();
  collect(view, out, seen);
  // An encoded URL (`https%3A%2F%2Fevil.io`) is one a tool may decode before it fetches.
  // Encoded more than once too (`https%253A%252F%252F`): percentDecode undoes several rounds.
  if (/%(?:25)*3a/i.test(view)) collect(foldText(percentDecode(view)), out, seen);
  if (out.length === 0 && key !== undefined && URL_KEY.test(key.toLowerCase())) {
    const t = view.trim();
    if (HOSTLIKE.test(t)) {
      const url = parseUrl(t.startsWith('//') ? `https:${t}` : `https://${t}`);
      if (url) out.push(url);
    }
  }
  return out;
}
