/** Where commands write; the bin passes stdout and stderr. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress lines); default: process.stderr.isTTY. */
  errIsTTY?: boolean;
}

/** Bad command line: the bin prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A query API's or collector's base URL on the command line: http(s) or a UsageError. */
export function httpUrl(v: string, option: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`${option} must be an http(s) URL, got "${v}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${option} must be an http(s) URL, got "${v}"`);
  return v;
}
