import { CHAIN_OVERHEAD_BYTES, StoredBytesError, type PendingLine, type RequestLines } from '../trail/request-lines.js';

/**
 * One request's stored lines, built as the decoders read it (the grouping `requestLines` does
 * for decoded spans, done on JSON text): each distinct resource once, with its distinct scopes,
 * then the span lines in the order received. A resource or scope joins the lines only when a
 * span of it does, so the lines are byte for byte those `requestLines` gives for the same request.
 */

/** A ResourceSpans' resource, as JSON text. */
export interface ResourceText {
  attributes: string;
  droppedAttributesCount: number;
  schemaUrl: string;
  /** Set at its first span. */
  group?: Group;
}

/** A ScopeSpans' scope, as JSON text. */
export interface ScopeText {
  resource: ResourceText;
  json: string;
  /** Its index in the resource line's `scopes`, set at its first span. */
  index?: number;
}

interface Group {
  index: number;
  resource: ResourceText;
  scopes: string[];
  scopeIndex: Map<string, number>;
}

export class LinesBuilder {
  private readonly groups: Group[] = [];
  private readonly byKey = new Map<string, Group>();
  private spanLines: PendingLine[] = [];
  private spanCount = 0;
  /** Stored bytes of the span lines, with their chain fields. */
  private bytes = 0;
  private overflow = false;
  private arena = EMPTY;
  private arenaAt = 0;

  /**
   * `encoding`: how the JSON text given is written. `latin1` when it is already the UTF-8 bytes,
   * one char each (the fast path's text, json-scan.ts).
   */
  constructor(
    private readonly maxBytes = Infinity,
    private readonly encoding: 'utf8' | 'latin1' = 'utf8',
  ) {}

  /** Spans added so far (what `--max-spans` counts). */
  get spans(): number {
    return this.spanCount;
  }

  /**
   * Adds a span line from its fields after `r` and `s` (`"traceId":...}`), encoded at once: its
   * text is not held, and its bytes are counted as they are made. (Joining a chunk of lines
   * first and encoding that costs more: the join copies every line once more.)
   */
  span(scope: ScopeText, rest: string): void {
    this.spanCount++;
    if (this.overflow) return;
    const line = this.encode(`{"r":${this.groupOf(scope.resource).index},"s":${this.scopeIndex(scope)},${rest}`);
    this.bytes += line.length + CHAIN_OVERHEAD_BYTES;
    if (this.bytes > this.maxBytes) {
      // Past the cap the request is refused once it is all read (a malformed span further on
      // still gets its 400 first, as before); its lines are no longer kept meanwhile.
      this.overflow = true;
      this.spanLines = [];
      return;
    }
    this.spanLines.push({ t: 'span', rest: line });
  }

  /** The request's lines; throws `StoredBytesError` when they would pass `maxBytes`. */
  finish(receivedAt: string, writer: string | undefined): RequestLines {
    if (this.overflow) throw new StoredBytesError(this.maxBytes);
    if (this.spanCount === 0) return { lines: [], bytes: 0, spans: 0 };
    let head = `"receivedAt":${JSON.stringify(receivedAt)}${writer === undefined ? '' : `,"writer":${JSON.stringify(writer)}`}`;
    if (this.encoding === 'latin1') head = Buffer.from(head, 'utf8').toString('latin1');
    const lines: PendingLine[] = this.groups.map((g) => ({ t: 'resource', rest: Buffer.from(resourceLine(g, head), this.encoding) }));
    let bytes = this.bytes;
    for (const l of lines) bytes += l.rest.length + CHAIN_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) throw new StoredBytesError(this.maxBytes);
    for (const l of this.spanLines) lines.push(l);
    this.spanLines = [];
    return { lines, bytes, spans: this.spanCount };
  }

  /**
   * A span line's bytes. Latin1 text is written into a shared arena (one allocation per
   * ARENA_BYTES, not a pooled Buffer per line): its length is its byte count, so it fits exactly.
   */
  private encode(text: string): Buffer {
    if (this.encoding !== 'latin1' || text.length > ARENA_BYTES / 4) return Buffer.from(text, this.encoding);
    if (this.arenaAt + text.length > this.arena.length) {
      this.arena = Buffer.allocUnsafeSlow(ARENA_BYTES);
      this.arenaAt = 0;
    }
    const start = this.arenaAt;
    this.arenaAt += this.arena.write(text, start, 'latin1');
    return this.arena.subarray(start, this.arenaAt);
  }

  private groupOf(resource: ResourceText): Group {
    if (resource.group) return resource.group;
    // Equal resources sent in separate ResourceSpans share one line.
    const key = `${resource.attributes}\u0000${resource.droppedAttributesCount}\u0000${resource.schemaUrl}`;
    let g = this.byKey.get(key);
    if (!g) {
      g = { index: this.groups.length, resource, scopes: [], scopeIndex: new Map() };
      this.groups.push(g);
      this.byKey.set(key, g);
    }
    resource.group = g;
    return g;
  }

  private scopeIndex(scope: ScopeText): number {
    if (scope.index !== undefined) return scope.index;
    const g = scope.resource.group!;
    let i = g.scopeIndex.get(scope.json);
    if (i === undefined) {
      i = g.scopes.length;
      g.scopes.push(scope.json);
      g.scopeIndex.set(scope.json, i);
    }
    scope.index = i;
    return i;
  }
}

/** Span lines are written into arenas this big (json-fast-lines' latin1 text only). */
const ARENA_BYTES = 256 * 1024;
const EMPTY = Buffer.alloc(0);

/** The resource line's fields, in the order the first writer gave them (`scopes` before the optional ones). */
function resourceLine(g: Group, head: string): string {
  const r = g.resource;
  let line = `{"r":${g.index},${head},"resource":${r.attributes},"scopes":[${g.scopes.join(',')}]`;
  if (r.droppedAttributesCount) line += `,"resourceDroppedAttributesCount":${r.droppedAttributesCount}`;
  if (r.schemaUrl) line += `,"resourceSchemaUrl":${JSON.stringify(r.schemaUrl)}`;
  return `${line}}`;
}

/** The JSON text of a scope, with the keys the first decoders left out when empty. */
export function scopeJson(name: string, version: string, attributes: { size: number; json(): string }, dropped: number, schemaUrl: string): string {
  let out = `{"name":${JSON.stringify(name)}`;
  if (version) out += `,"version":${JSON.stringify(version)}`;
  if (attributes.size > 0) out += `,"attributes":${attributes.json()}`;
  if (dropped) out += `,"droppedAttributesCount":${dropped}`;
  if (schemaUrl) out += `,"schemaUrl":${JSON.stringify(schemaUrl)}`;
  return `${out}}`;
}
