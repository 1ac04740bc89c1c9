import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Key, token and policy files are small; anything larger is not what the caller thinks it is. */
export const SMALL_FILE_MAX_BYTES = 1024 * 1024;

/**
 * Reads a small regular file (a key, a token list) without ever blocking the process: a FIFO
 * opened for reading waits for a writer, and `/dev/zero` never ends, so the file is opened
 * non-blocking, must be a regular file, and is read up to `maxBytes` at most. Throws an Error
 * whose message names `what` and the file; callers wrap it in their own typed error.
 */
export function readSmallFileSync(file: string, what: string, maxBytes: number = SMALL_FILE_MAX_BYTES): Buffer {
  // O_NONBLOCK is undefined where the platform has none (Windows); FIFOs are POSIX anyway.
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${what} ${file} is not a regular file`);
    if (st.size > maxBytes) throw new Error(`${what} ${file} is ${st.size} bytes; a ${what} is at most ${maxBytes}`);
    // One byte more than the size says: a file that grows while it is read is refused too.
    const buf = Buffer.alloc(st.size + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
      if (got > st.size) throw new Error(`${what} ${file} changed while it was read`);
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
