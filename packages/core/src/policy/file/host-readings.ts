/**
 * The other names of a URL's host: what a client connecting to it also reaches (`[::1]` is
 * `::1`, `[::ffff:7f00:1]` is 127.0.0.1, `0.0.0.0` and `[::]` are this host, `redis://2130706433`
 * is 127.0.0.1 to a C resolver). Each is one more URL fact, so a rule on any name sees it.
 */
import { Url } from './fact-classes.js';

const IPV4_NUMBERS = /^(?:0x[0-9a-f]*|\d+)(?:\.(?:0x[0-9a-f]*|\d+)){0,3}\.?$/i;
/** Schemes whose host the WHATWG parser itself reads in IPv4 number forms. */
const SPECIAL = new Set(['http', 'https', 'ws', 'wss', 'ftp', 'file']);

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

/** The IPv4 address a non-special scheme's host in number form reaches (`redis://2130706433`). */
function ipv4Reading(host: string): string | undefined {
  // Special schemes get this from the parser; a client of another scheme hands the host to the
  // C resolver, which reads `2130706433`, `0x7f.1`, `0177.0.0.1` as 127.0.0.1 (inet_aton).
  if (!IPV4_NUMBERS.test(host)) return undefined;
  try {
    const h = new URL(`http://${host}/`).hostname;
    return h !== host ? h : undefined;
  } catch {
    return undefined;
  }
}

function withHost(u: Url, host: string): Url {
  return new Url(u.url, u.scheme, host, u.port, u.path, u.query);
}

/** Facts of one URL: itself, and the other names of its host (IPv6 unbracketed, IPv4 forms), into `out`. */
export function pushWithHostReadings(url: Url, out: Url[]): void {
  out.push(url);
  const h = url.host;
  // Connecting to the unspecified address reaches this host (Linux, macOS): `0.0.0.0:8080` is
  // a local service, as 127.0.0.1 is.
  if (h === '0.0.0.0') out.push(withHost(url, '127.0.0.1'));
  if (h === '[::]') {
    out.push(withHost(url, '::'), withHost(url, '::1'));
    return;
  }
  if (h.startsWith('[')) {
    // `[::1]` and `::1`: a rule may name the address either way (as a resolver or `net` does).
    out.push(withHost(url, h.slice(1, -1)));
    const v4 = mappedIpv4(h);
    if (v4 !== undefined) out.push(withHost(url, v4));
  } else if (!SPECIAL.has(url.scheme)) {
    const v4 = ipv4Reading(h);
    if (v4 !== undefined) out.push(withHost(url, v4));
  }
}
