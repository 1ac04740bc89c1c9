/**
 * A JSON tokenizer over the request's bytes, for the OTLP/JSON fast path (`json-fast-lines.ts`).
 * It never refuses a body: on anything it does not handle exactly as `JSON.parse` would (invalid
 * JSON, `\u` escapes it would have to decode, nesting past SKIP_DEPTH), it throws GIVE_UP and the
 * request goes through the reference decoder, which gives the answer (lines or refusal).
 *
 * Text is handed out as latin1 strings of the body's bytes: one char per byte, so slicing and
 * joining them and writing the result back with `Buffer.from(text, 'latin1')` reproduces the
 * bytes. The body is valid UTF-8 (checked first), so an unescaped string's bytes between its
 * quotes are the UTF-8 of the string `JSON.parse` returns, and they are what `JSON.stringify`
 * writes for it, which escapes only `"`, `\`, control characters and lone surrogates.
 */

/** Thrown (never wrapped) when the fast path hands the request to the reference decoder. */
export const GIVE_UP: unique symbol = Symbol('json fast path: use the reference decoder');

export function giveUp(): never {
  throw GIVE_UP;
}

/** Nesting the skipper follows before giving up (JSON.parse goes much deeper; the reference answers). */
const SKIP_DEPTH = 64;

const QUOTE = 0x22;
const CTL = /[\x00-\x1f]/;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const BACKSLASH = 0x5c;

export class JsonScan {
  i = 0;
  /** The last string's contents: `b[s0..s1)`, between its quotes. */
  s0 = 0;
  s1 = 0;
  /**
   * 0: no backslash; 1: only the escapes `JSON.stringify` writes the same (`\" \\ \b \f \n \r \t`),
   * so the raw text is already the stored text; 2: `\/` or `\u` (the text must be re-encoded).
   */
  esc = 0;

  /** The body as latin1 (one char per byte): indexOf and slices on it are far cheaper than on the Buffer. */
  readonly t: string;
  /** Whether the body holds any control character (then each string is checked). */
  private readonly ctl: boolean;
  /** The next backslash at or after where it was last looked for (t.length when none). */
  private bs = -1;

  constructor(readonly b: Buffer) {
    this.t = b.toString('latin1');
    this.ctl = CTL.test(this.t);
  }

  /** The next non-whitespace byte (not consumed); NaN-safe past the end (undefined compares false). */
  peek(): number {
    const b = this.b;
    let i = this.i;
    let c = b[i]!;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++i]!;
    this.i = i;
    return c;
  }

  eat(c: number): void {
    if (this.peek() !== c) giveUp();
    this.i++;
  }

  /** Consumes `c` if it comes next. */
  maybe(c: number): boolean {
    if (this.peek() !== c) return false;
    this.i++;
    return true;
  }

  /** Scans a string token, setting s0, s1 and esc. The quotes and backslashes are found by indexOf. */
  str(): void {
    this.eat(QUOTE);
    const t = this.t;
    let j = this.i;
    let esc = 0;
    this.s0 = j;
    for (;;) {
      const q = t.indexOf('"', j);
      if (q < 0) giveUp();
      if (this.bs < j) this.bs = nextBackslash(t, j);
      const at = this.bs;
      if (at > q) {
        j = q;
        break;
      }
      const e = t.charCodeAt(at + 1);
      if (e === QUOTE || e === BACKSLASH || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) esc ||= 1;
      else if (e === 0x2f) esc = 2;
      else if (e === 0x75 && HEX4.test(t.slice(at + 2, at + 6))) {
        esc = 2;
        j = at + 6;
        continue;
      } else giveUp();
      j = at + 2;
    }
    // Control characters are not allowed raw in a JSON string; most bodies hold none at all.
    if (this.ctl && CTL.test(t.slice(this.s0, j))) giveUp();
    this.s1 = j;
    this.i = j + 1;
    this.esc = esc;
  }

  /** The last string's JSON text as `JSON.stringify` writes its value (latin1 of its UTF-8). */
  json(): string {
    if (this.esc < 2) return this.t.slice(this.s0 - 1, this.s1 + 1);
    return Buffer.from(JSON.stringify(this.decoded()), 'utf8').toString('latin1');
  }

  /** The last string's value (latin1 of its UTF-8). */
  text(): string {
    if (this.esc === 0) return this.t.slice(this.s0, this.s1);
    return Buffer.from(this.decoded(), 'utf8').toString('latin1');
  }

  /** The last string unescaped by JSON.parse itself; a lone surrogate (no UTF-8 of its own) gives up. */
  private decoded(): string {
    const v = JSON.parse(this.b.toString('utf8', this.s0 - 1, this.s1 + 1)) as string;
    if (LONE_SURROGATE.test(v)) giveUp();
    return v;
  }

  /** An unescaped string's contents, for names, ids and digits; anything escaped gives up. */
  raw(): string {
    this.str();
    if (this.esc) giveUp();
    return this.t.slice(this.s0, this.s1);
  }

  /** An object key that needs no unescaping (a key spelt with escapes gives up). */
  key(): string {
    const k = this.raw();
    this.eat(0x3a); // :
    return k;
  }

  /**
   * Scans a number token and returns its text. `int` is set when it is `0` or `-?[1-9][0-9]*`
   * (no fraction, no exponent); the grammar is JSON's, anything else gives up.
   */
  num(): { text: string; int: boolean } {
    const b = this.b;
    const start = this.peek() === 0x2d ? this.i + 1 : this.i;
    let i = start;
    if (b[i] === 0x30) i++;
    else if (isDigit(b[i])) while (isDigit(b[i])) i++;
    else giveUp();
    let int = true;
    if (b[i] === 0x2e) {
      int = false;
      if (!isDigit(b[++i])) giveUp();
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      int = false;
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (!isDigit(b[i])) giveUp();
      while (isDigit(b[i])) i++;
    }
    const text = this.t.slice(this.i, i);
    this.i = i;
    return { text, int };
  }

  /** `true` or `false`. */
  bool(): boolean {
    const c = this.peek();
    if (c === 0x74 && this.word('true')) return true;
    if (c === 0x66 && this.word('false')) return false;
    return giveUp();
  }

  private word(w: string): boolean {
    if (!this.t.startsWith(w, this.i)) return false;
    this.i += w.length;
    return true;
  }

  /** Opens an object: true when it has a first member (read its key next). */
  obj(): boolean {
    this.eat(0x7b);
    return !this.maybe(0x7d);
  }

  /** After a member: true when another follows, false once the object is closed. */
  more(): boolean {
    if (this.maybe(0x2c)) return true;
    this.eat(0x7d);
    return false;
  }

  /** Opens an array: true when it has a first item. */
  arr(): boolean {
    this.eat(0x5b);
    return !this.maybe(0x5d);
  }

  /** After an item: true when another follows, false once the array is closed. */
  moreItems(): boolean {
    if (this.maybe(0x2c)) return true;
    this.eat(0x5d);
    return false;
  }

  /** Checks and skips any JSON value (a field the decoders do not read). */
  skip(depth = 0): void {
    if (depth > SKIP_DEPTH) giveUp();
    const c = this.peek();
    if (c === QUOTE) return this.str();
    if (c === 0x7b) {
      this.i++;
      if (this.maybe(0x7d)) return;
      do {
        this.str();
        this.eat(0x3a);
        this.skip(depth + 1);
      } while (this.maybe(0x2c));
      return this.eat(0x7d);
    }
    if (c === 0x5b) {
      this.i++;
      if (this.maybe(0x5d)) return;
      do this.skip(depth + 1);
      while (this.maybe(0x2c));
      return this.eat(0x5d);
    }
    if (c === 0x74 || c === 0x66) return void this.bool();
    if (c === 0x6e && this.word('null')) return;
    this.num();
  }

  /** Only whitespace left: what JSON.parse requires after the value. */
  end(): void {
    if (this.peek() !== undefined) giveUp();
  }
}

function nextBackslash(t: string, from: number): number {
  const at = t.indexOf('\\', from);
  return at < 0 ? t.length : at;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}
