import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

/** Reading a request body: size cap, content encoding, media type. */

/** A request the collector refuses with an HTTP status other than 400 (413, 415). */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type BodyFormat = 'json' | 'protobuf';

/** The OTLP format named by a Content-Type header, or undefined for anything else. */
export function bodyFormat(contentType: string | undefined): BodyFormat | undefined {
  const media = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (media === 'application/json') return 'json';
  if (media === 'application/x-protobuf' || media === 'application/protobuf') return 'protobuf';
  return undefined;
}

type Inflate = (buf: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>;
const gunzip = promisify(zlib.gunzip) as Inflate;
const inflate = promisify(zlib.inflate) as Inflate;

function decoderFor(encoding: string | undefined): Inflate | null | undefined {
  const e = (encoding ?? '').trim().toLowerCase();
  if (e === '' || e === 'identity') return null;
  if (e === 'gzip' || e === 'x-gzip') return gunzip;
  if (e === 'deflate') return inflate;
  return undefined;
}

/**
 * The request's body, decompressed. Both the bytes on the wire and the decompressed bytes are
 * capped at `maxBytes`, so a small gzip bomb is refused like a large body.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const encoding = req.headers['content-encoding'];
  const decode = decoderFor(encoding);
  if (decode === undefined) {
    throw new RequestError(415, `unsupported content-encoding "${encoding}" (use gzip, deflate or none)`);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);

  const raw = await collect(req, maxBytes);
  if (!decode) return raw;
  try {
    return await decode(raw, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBytes);
    throw new RequestError(400, `body is not valid ${String(encoding).toLowerCase()} data: ${(err as Error).message}`);
  }
}

/**
 * Events rather than `for await`: leaving an async iteration early destroys the request, and
 * with it the socket the 413 answer has to go out on. Past the cap the rest is discarded.
 */
function collect(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > maxBytes) {
        over = true;
        chunks.length = 0;
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', reject);
  });
}

function tooLarge(maxBytes: number): RequestError {
  return new RequestError(413, `body exceeds the limit of ${maxBytes} bytes`);
}
