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
