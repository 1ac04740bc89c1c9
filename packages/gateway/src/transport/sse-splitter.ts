/**
 * Splits a Server-Sent Events stream, given as text in arbitrary chunks, into its events (the
 * text between blank lines, line ends normalised to LF: CRLF, CR and LF are all line ends).
 * Only the new text of each chunk is normalised and searched, and an unfinished event is kept
 * as parts joined once: a large event arriving in many chunks is never rescanned or flattened
 * at every chunk (which is quadratic in its size).
 */
export class SseSplitter {
  private parts: string[] = [];
  private endsWithNewline = false;
  /** A CR at the end of a chunk may be the first half of a CRLF: it waits for the next chunk. */
  private carry = '';

  /** The events the chunk completes, in order (without their blank line). */
  push(chunk: string): string[] {
    let text = this.carry + chunk;
    this.carry = '';
    if (text.endsWith('\r')) {
      this.carry = '\r';
      text = text.slice(0, -1);
    }
    text = text.replace(/\r\n?/g, '\n');
    const events: string[] = [];
    let pos = 0;
    for (;;) {
      if (pos === 0 && this.parts.length > 0 && this.endsWithNewline && text.startsWith('\n')) {
        // The blank line straddles two chunks: the event is what was kept, less its newline.
        events.push(this.parts.join('').slice(0, -1));
        pos = 1;
      } else {
        const end = text.indexOf('\n\n', pos);
        if (end === -1) break;
        events.push(this.parts.join('') + text.slice(pos, end));
        pos = end + 2;
      }
      this.parts = [];
      this.endsWithNewline = false;
    }
    if (pos < text.length) {
      this.parts.push(pos === 0 ? text : text.slice(pos));
      this.endsWithNewline = text.endsWith('\n');
    }
    return events;
  }

  /** The events the end of the stream completes: a line end held back, and an event with no closing blank line. */
  end(): string[] {
    // A CR held back is a line end of its own now (no LF follows it).
    const events = this.carry === '' ? [] : this.push('\n');
    const rest = this.parts.join('');
    this.parts = [];
    this.endsWithNewline = false;
    if (rest.trim() !== '') events.push(rest.endsWith('\n') ? rest.slice(0, -1) : rest);
    return events;
  }
}
