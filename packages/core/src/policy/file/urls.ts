/**
 * URLs in a string, parsed the way an HTTP client parses them (WHATWG URL, Node's own): so
 * `https://example.com@evil.io` has host `evil.io`, `https://evil.io\@example.com` too, and the
 * host is lower-cased punycode. The path is percent-decoded with dot segments resolved, so a
 * path rule sees `/admin` in `/public/%2e%2e/admin`.
 */
import { posix } from 'node:path';
import { Url } from './fact-classes.js';
import { pushWithHostReadings } from './host-readings.js';
import { normaliseDomain } from './emails.js';
import { decodeEntities, foldText, hasEscapes, percentDecode, trimControls, trimEndChars, unescapeJs } from './text.js';

const DEFAULT_PORTS: Record<string, number> = {
  http: 80, https: 443, ws: 80, wss: 443, ftp: 21, ssh: 22, sftp: 22, git: 9418, smtp: 25, smtps: 465,
  imap: 143, imaps: 993, ldap: 389, ldaps: 636, redis: 6379, rediss: 6379, postgres: 5432, postgresql: 5432,
  mysql: 3306, mongodb: 27017, amqp: 5672, amqps: 5671, nats: 4222, s3: 443, gs: 443,
};

/**
 * A scheme and `://` (or `:\\`); for the schemes a browser treats as special, also `https:host`
 * with no slashes at all, which the WHATWG parser accepts (in any case: `HTTPS:evil.io`).
 * Not inside a word (`xhttps:` is one scheme), but after a digit or `-` a link finder sees one.
 */
const CANDIDATE = /(?<![A-Za-z])(?:(?:https?|wss?|ftp):[/\\]*|[A-Za-z][A-Za-z0-9+.-]{0,31}:[/\\]{2})[^\s<>"'`]+/gi;
/** What may follow a URL in prose and is not part of it. */
const TRAILING = '.,;:!?)]}\'"';
/** A value that is a URL from its first character (a tool handed it fetches all of it). */
const STARTS_URL = /^(?:(?:https?|wss?|ftp):|[A-Za-z][A-Za-z0-9+.-]{0,31}:[/\\]{2})/i;
/** Not a host to prepend a scheme to: a link of another kind. */
const NOT_HOST = /^(?:mailto|data|javascript|tel|sms|urn|about|blob):/i;
/** Key names (or their last word: `webhookUrl`, `target_url`, `baseURL`) whose value is a URL or host. */
const URL_WORDS = new Set([
  'url', 'urls', 'uri', 'uris', 'href', 'link', 'links', 'endpoint', 'endpoints', 'website', 'site', 'domain', 'host',
  'hostname', 'origin', 'webhook', 'callback', 'server', 'proxy', 'redirect', 'location',
]);
/** Keys whose value is a host by name: a single label (`localhost`, `db1`) is a host there. */
const HOST_WORDS = new Set(['host', 'hostname', 'server']);
/** Tab, LF, CR: the WHATWG parser removes them anywhere in a URL (`https://ev\til.io` is evil.io). */
const TAB_NL = /[\t\n\r]/g;
/** A C client (libcurl, a C resolver) stops at a NUL; other controls end a host name there too. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0e-\x1f\x7f]/;
// eslint-disable-next-line no-control-regex
const MAYBE_URL = /[:%&\\]|[^\x00-\x7f]/;
/** A percent-encoded character that changes how a URL splits, or any doubled encoding. */
const ENCODED_SYNTAX = /%(?:25)+[0-9A-Fa-f]{2}|%(?:3a|40|2f|5c|23|3f|0[09ad])/i;
/** Whitespace that the URL parser does not remove (tab, LF, CR it does). */
const INNER_SPACE = /[^\S\t\n\r]/;
/** Scheme and slashes, then the authority as RFC 3986 delimits it (a backslash does not end it). */
const AUTHORITY = /^([A-Za-z][A-Za-z0-9+.-]*:[/\\]*)([^/?#]*)/;
/** An scp-style remote: `user@host:path` (not `host://`, and no blank). */
const SCP = /^([\w.+-]+@(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])):(?!\/\/)(\S*)$/;
/** A UNC path's server: `\\\\host\\`, `\\\\?\\UNC\\host\\`, `\\\\host@SSL@443\\`. */
const UNC_HOST = /^\\\\(?:\?\\UNC\\)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?:@SSL)?(?:@\d+)?\\/i;
const IPV6_BARE = /^[0-9a-f]*:[0-9a-f]*:[0-9a-f:.]*$/i;
const EXPLICIT_PORT = /^(?:[^/?#\\@]*@)?(?:\[[^\]]*\]|[^/?#\\:]*):\d+(?:[/?#\\]|$)/;

function splitWords(key: string): string[] {
  return key.split(/[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])/);
}

function keyWord(key: string | undefined, words: Set<string>): boolean {
  if (key === undefined) return false;
  if (words.has(key.toLowerCase())) return true;
  const parts = splitWords(key);
  const last = parts[parts.length - 1];
  return last !== undefined && words.has(last.toLowerCase());
}

export function isUrlKey(key: string | undefined): boolean {
  return keyWord(key, URL_WORDS);
}

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
 * Whether `s`, edges trimmed, has a space (not a tab or line break) in it: text, then a space,
 * then text. Each search goes on from the last, and in prose all three end within a word.
 */
function spaceInside(s: string): boolean {
  const text = /[^\x00-\x20]/g;
  if (!text.test(s)) return false;
  const space = new RegExp(INNER_SPACE.source, 'g');
  space.lastIndex = text.lastIndex;
  if (!space.test(s)) return false;
  text.lastIndex = space.lastIndex;
  return text.test(s);
}

/**
 * Readings gathered for one string. `seen` holds the candidates parsed; `have` the readings a
 * rule can tell apart (scheme, host, port, path, query): an extra view (decoded, unescaped,
 * whole-value, truncated) adds a URL only when it reads differently from every one so far.
 */
class Collector {
  readonly out: Url[] = [];
  private readonly seen = new Set<string>();
  private readonly have = new Set<string>();

  add(candidate: string, extra: boolean): void {
    if (this.seen.has(candidate)) return;
    this.seen.add(candidate);
    const url = parseUrl(candidate);
    if (url) {
      const k = `${url.scheme} ${url.host} ${url.port} ${url.path} ${url.query}`;
      if (!extra || !this.have.has(k)) {
        this.have.add(k);
        pushWithHostReadings(url, this.out);
      }
    }
    const c = candidate.search(CONTROL);
    if (c > 0) this.add(trimEndChars(candidate.slice(0, c), TRAILING), true);
    // `https://api.example.com\\@evil.io`: WHATWG ends the host at the backslash, an RFC 3986
    // client (curl, Python's urllib) reads the authority on to the `@` and reaches evil.io.
    if (candidate.includes('\\')) {
      const a = AUTHORITY.exec(candidate);
      const auth = a?.[2];
      if (a && auth !== undefined && auth.includes('\\') && auth.includes('@')) {
        this.add(`${a[1] as string}${auth.replace(/\\/g, '%5C')}${candidate.slice(a[0].length)}`, true);
      }
    }
  }

  /** Every `scheme:` candidate in `view`. */
  scan(view: string, extra: boolean): void {
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(view); m !== null; m = CANDIDATE.exec(view)) this.add(trimEndChars(m[0], TRAILING), extra);
  }

  /** One view of the string: its candidates, and the readings a fetch of all of it makes. */
  read(view: string, urlKey: boolean, extra: boolean): void {
    this.scan(view, extra);
    const hasBreak = /[\t\n\r]/.test(view);
    // The whole value as one URL: a quote, `<`, or (under a URL key) a space before the `@`
    // ends a candidate, but the parser reads on: `https://api.example.com'@evil.io` is evil.io.
    // Its start is tested first, so prose pays for a 40-character prefix only.
    const lead = /^[\x00-\x20]*/.exec(view)?.[0].length ?? 0;
    if (STARTS_URL.test(view.slice(lead, lead + 40).replace(TAB_NL, ''))) {
      const whole = trimControls(view).replace(TAB_NL, '');
      if (urlKey || !/\s/.test(whole)) this.add(whole, true);
    }
    if (!hasBreak) return;
    // A URL between quotes (`href="https://ev\nil.io"`) or alone in the value, with the tabs
    // and line breaks the parser removes removed. Prose (a space in the run) is left alone: a
    // link finder stops at the break too, and joining lines would invent hosts.
    for (const piece of view.split(/["'`<>]/)) {
      if (!/[\t\n\r]/.test(piece) || spaceInside(piece)) continue;
      this.scan(trimControls(piece).replace(TAB_NL, ''), true);
    }
  }

  /** A value under a URL key with no scheme, as a tool that prepends one reads it. */
  bare(view: string, hostKey: boolean): void {
    const t = trimControls(view).replace(TAB_NL, '');
    if (t === '' || /\s/.test(t) || STARTS_URL.test(t) || NOT_HOST.test(t)) return;
    // `/v1/items` is a path on some base URL, not a host; `3` (an index) is not 0.0.0.3, but
    // `0` is 0.0.0.0, this host.
    if (t.startsWith('/') && !/^[/\\]{2}/.test(t)) return;
    if (/^\d{1,8}$/.test(t) && Number(t) < 0x1000000 && Number(t) !== 0) return;
    const forms = t.includes('%') ? [t, percentDecode(t)] : [t];
    // An IPv6 address without brackets (`::1`, as a socket API takes it).
    if (IPV6_BARE.test(t)) forms.push(`[${t}]`);
    for (const v of forms) {
      const url = parseUrl(`https://${v}`);
      if (url === undefined || url.host === '') continue;
      // A word under `callback` or `site` (`onDone`, `main`) is not a host; a dotted name, an
      // address, `localhost`, a name with a port, or anything under `host` is.
      const h = url.host;
      if (!(hostKey || h.includes('.') || h.startsWith('[') || h === 'localhost' || EXPLICIT_PORT.test(v))) continue;
      this.add(`https://${v}`, true);
    }
  }
}

/**
 * Every URL in `text`. `key` is the argument's name: under `url`, `endpoint`, `host`,
 * `webhookUrl`, ... a value without a scheme that names a host (`evil.io/upload`,
 * `localhost:8080`) is read as https.
 */
export function urlsIn(text: string, key: string | undefined): Url[] {
  const urlKey = isUrlKey(key);
  if (!urlKey && !MAYBE_URL.test(text)) return [];
  const view = foldText(decodeEntities(text));
  const c = new Collector();
  c.read(view, urlKey, false);
  // A JSON or JavaScript string inside the value (`{"url":"https:\/\/a\u0040evil.io"}`): a
  // tool parses it before it fetches.
  const views = [view];
  if (hasEscapes(view)) views.push(foldText(unescapeJs(view)));
  // An encoded URL (`https%3A%2F%2Fevil.io`, `https://a%40evil.io`) is one a tool may decode
  // before it fetches; encoded more than once too (percentDecode undoes several rounds). Other
  // single escapes (`%20`, `%69` in a host) the parser reads itself: no second pass for them.
  for (const v of views.slice()) if (ENCODED_SYNTAX.test(v)) views.push(foldText(percentDecode(v)));
  for (let i = 1; i < views.length; i++) c.read(views[i] as string, urlKey, true);
  const t = trimControls(view);
  // `git@evil.io:org/x.git`: git and scp reach evil.io over ssh.
  if (t.includes('@') && t.includes(':')) {
    const m = SCP.exec(t);
    if (m !== null) c.add(`ssh://${m[1] as string}/${m[2] as string}`, true);
  }
  // `\\evil.io\share`: Windows opens a UNC path on that server (SMB; WebDAV with `@SSL`).
  if (t.startsWith('\\\\')) {
    const m = UNC_HOST.exec(t);
    if (m !== null) c.add(`file://${m[1] as string}/`, true);
  }
  if (urlKey) {
    const hostKey = keyWord(key, HOST_WORDS);
    for (const v of views) c.bare(v, hostKey);
  }
  return c.out;
}
