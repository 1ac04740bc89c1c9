import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { LineDecoder } from '../../trail/line-decoder.js';
import { listTrailFiles } from '../../trail/reader.js';
import type { TrailSpan } from '../../trail/record.js';
import { toCallView, type CallView } from '../calls.js';
import type { CanaryPlan, PlantedSecret } from './canary.js';

/** One canary call found in what was read back. */
export interface FoundCall {
  view: CallView;
  /** `file:line`, or the Jaeger trace. */
  where: string;
}

/** A planted secret found in the raw bytes read back. */
export interface SecretHit {
  kind: PlantedSecret['kind'];
  where: string;
}

/** What one read of the trail found of the canary. */
export interface ReadBack {
  description: string;
  /** By run label (`a`, `b`). */
  calls: Partial<Record<'a' | 'b', FoundCall>>;
  /** Other records mentioning the check's nonce (its runs' spans, ...): the check's traffic arrived. */
  related: number;
  hits: SecretHit[];
  /** Records and bytes of the trail whose raw bytes were searched for the planted secrets. */
  records: number;
  bytes: number;
  problems: string[];
  /**
   * Problems of the read the verdicts rest on (the last one): what it could not read. `problems`
   * holds those of every poll. Not in the JSON (`read.problems` has them).
   */
  unread: string[];
}

export function emptyReadBack(description: string): ReadBack {
  return { description, calls: {}, related: 0, hits: [], records: 0, bytes: 0, problems: [], unread: [] };
}

const MAX_HITS = 20;

/**
 * The forms a planted secret can be stored in besides its own bytes: a copy that was only
 * re-encoded is still a copy. Its digits alone (a card written without separators), percent-
 * encoded, and base64 / base64url at each of the three byte alignments (the secret inside a
 * longer encoded value), trimmed to the characters that depend on the secret alone.
 */
export function secretForms(value: string): { form: string; needle: string }[] {
  const forms = new Map<string, string>([[value, 'as planted']]);
  const digits = value.replace(/\D/g, '');
  if (digits.length >= 12 && digits !== value) forms.set(digits, 'as its digits');
  const pct = encodeURIComponent(value);
  if (pct !== value) forms.set(pct, 'percent-encoded');
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.from('\0'.repeat(pad) + value, 'utf8').toString('base64');
    // Skip the characters that also encode the padding bytes, and the last (possibly partial) group.
    const start = pad === 0 ? 0 : Math.ceil((pad * 4) / 3);
    const stable = b64.slice(start, Math.floor(((pad + Buffer.byteLength(value)) * 4) / 3) - 1);
    if (stable.length >= 12) {
      forms.set(stable, 'base64-encoded');
      forms.set(stable.replace(/\+/g, '-').replace(/\//g, '_'), 'base64url-encoded');
    }
  }
  return [...forms].map(([needle, form]) => ({ form, needle }));
}

/**
 * Every place a planted secret occurs in `bytes`, in any of its forms, as `where(lineNumber)`.
 * Raw bytes, not parsed records: a secret in a field no reader looks at is still a copy of the
 * secret.
 */
export function findSecrets(bytes: Buffer, secrets: PlantedSecret[], where: (line: number) => string, out: SecretHit[]): void {
  for (const s of secrets) {
    for (const { form, needle: text } of secretForms(s.value)) {
      const needle = Buffer.from(text, 'utf8');
      let line = 1;
      let counted = 0; // newlines before this offset are counted in `line`
      for (let at = bytes.indexOf(needle); at >= 0 && out.length < MAX_HITS; at = bytes.indexOf(needle, at + needle.length)) {
        for (let nl = bytes.indexOf(10, counted); nl >= 0 && nl < at; nl = bytes.indexOf(10, nl + 1)) {
          line++;
          counted = nl + 1;
        }
        out.push({ kind: s.kind, where: form === 'as planted' ? where(line) : `${where(line)} (${form})` });
      }
    }
  }
}

/** Files a record of this check can be in: written to since the check started (mtime), with slack for clocks. */
const MTIME_SLACK_MS = 5_000;

/**
 * The collector's folder: the files written to since the check started, whole. Their raw bytes
 * are searched for the secrets; only lines mentioning the nonce (and the resource lines v2 span
 * lines refer to) are parsed, so a big file costs a byte search, not a JSON parse per line.
 */
export async function readDirOnce(dir: string, plan: CanaryPlan, startedAt: number): Promise<ReadBack> {
  const files = await listTrailFiles(dir);
  const rb = emptyReadBack(`${files.length} file(s) in ${path.resolve(dir)}`);
  // The lister takes a missing folder for an empty trail; a mistyped --trail must say so.
  if (files.length === 0 && !existsSync(dir)) rb.problems.push(`no such folder: ${path.resolve(dir)}`);
  for (const file of files) {
    let bytes: Buffer;
    try {
      if ((await stat(file)).mtimeMs < startedAt - MTIME_SLACK_MS) continue;
      bytes = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // rotated away meanwhile
      rb.problems.push(`${file}: ${(err as Error).message}`);
      continue;
    }
    const name = path.basename(file);
    rb.bytes += bytes.length;
    findSecrets(bytes, plan.secrets, (line) => `${name}:${line}`, rb.hits);
    const text = bytes.toString('utf8');
    const decoder = new LineDecoder();
    let start = 0;
    for (let line = 1, nl = text.indexOf('\n'); nl >= 0; line++, start = nl + 1, nl = text.indexOf('\n', start)) {
      const raw = text.slice(start, nl);
      if (raw.startsWith('{"v":2,"t":"resource"')) {
        decoder.decode(raw);
        continue;
      }
      // Spans (v2 span lines, v1 records); the chain's open and seal lines are not records.
      if (raw.startsWith('{"v":2,"t":"span"') || !raw.startsWith('{"v":')) rb.records++;
      if (!raw.includes(plan.nonce)) continue;
      const d = decoder.decode(raw);
      if (d.kind === 'record') note(rb, plan, d.record, `${name}:${line}`);
    }
  }
  return rb;
}

/** Files the span under its run's label when it is a canary call, else counts it as related. */
export function note(rb: ReadBack, plan: CanaryPlan, span: TrailSpan, where: string): void {
  const view = toCallView(span);
  const run = view ? plan.runs.find((r) => r.callId === view.callId) : undefined;
  if (view && run) {
    // A retried export may deliver the record twice: the first copy stands.
    rb.calls[run.label] ??= { view, where };
  } else rb.related++;
}
