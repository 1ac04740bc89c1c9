import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { GENESIS_HASH, sealMessage, type OpenLine, type SealReason, type V2Line } from './format-v2.js';
import { sealKeyId } from './seal-key.js';

/**
 * Checks the collector's chain and seals while a trail is read, line by line, in bounded
 * memory: per file it keeps a few fields, never the lines. What each finding means is in
 * docs/collector.md ("What the reader checks").
 */

export interface SealFinding {
  kind: SealFindingKind;
  message: string;
  file?: string;
  /** 1-based line numbers in `file`, inclusive. */
  lines?: [number, number];
}

export type SealFindingKind =
  | 'line-edited'
  | 'line-gap'
  | 'unchained-line'
  | 'seal-mismatch'
  | 'bad-signature'
  | 'unknown-key'
  | 'unsealed-tail'
  | 'file-missing'
  | 'tail-missing'
  | 'chain-broken'
  | 'legacy-after-chain'
  | 'findings-truncated';

export interface SealReport {
  /** Lines that carry the collector's chain, and those of them covered by a seal a trusted key verified. */
  chainedLines: number;
  /** Chained lines covered by a signed seal (verified or not: an unknown key counts here). */
  sealedLines: number;
  verifiedLines: number;
  /** v1 lines (written before seals existed). */
  legacyLines: number;
  /**
   * True when every chained line is covered by a seal verified with a trusted collector key,
   * there is at least one, no line is a v1 line, and there are no findings.
   */
  authenticated: boolean;
  findings: SealFinding[];
}

/** What the reader made of one complete line. */
export type CheckedLine = { kind: 'v1' } | { kind: 'v2'; line: V2Line } | { kind: 'other' };

const MAX_FINDINGS = 1000;

interface FileSummary {
  file: string;
  /** Hash of the last complete line, whatever it was. */
  lastHash: string | undefined;
  lastN: number | undefined;
  mode: 'empty' | 'v1' | 'v2';
  open: OpenLine | undefined;
  chain: string | undefined;
  index: number | undefined;
  /** The reason of the file's last line when it is a seal. */
  endSeal: SealReason | undefined;
}

interface FileState extends FileSummary {
  prevHash: string | undefined;
  /** `n` of the previous line when it was a valid v2 line. */
  prevN: number | undefined;
  lastLine: number;
  lastSealLine: number;
  /** Chained lines since the last seal whose links are intact, for the two coverage counts. */
  pendingSealed: number;
  pendingVerified: number;
  key: string | undefined;
  reportedUnknownKey: boolean;
}

export class ChainChecker {
  private readonly keys = new Map<string, KeyObject>();
  private readonly checkingKeys: boolean;
  private readonly summaries = new Map<string, FileSummary>();
  private readonly order: FileSummary[] = [];
  private cur: FileState | undefined;
  private sawV2 = false;
  private findingCount = 0;
  readonly report: SealReport = { chainedLines: 0, sealedLines: 0, verifiedLines: 0, legacyLines: 0, authenticated: false, findings: [] };

  constructor(sealKeys: readonly KeyObject[] | undefined) {
    for (const k of sealKeys ?? []) {
      const pub = k.type === 'private' ? createPublicKey(k) : k;
      this.keys.set(sealKeyId(pub), pub);
    }
    this.checkingKeys = this.keys.size > 0;
  }

  beginFile(file: string): void {
    this.cur = {
      file,
      lastHash: undefined,
      lastN: undefined,
      mode: 'empty',
      open: undefined,
      chain: undefined,
      index: undefined,
      endSeal: undefined,
      prevHash: undefined,
      prevN: undefined,
      lastLine: 0,
      lastSealLine: 0,
      pendingSealed: 0,
      pendingVerified: 0,
      key: undefined,
      reportedUnknownKey: false,
    };
  }

  /** A complete line: its number, the SHA-256 of its bytes, and what it was. */
  line(lineNo: number, hash: string, what: CheckedLine): void {
    const c = this.cur!;
    if (c.mode === 'empty') {
      if (what.kind === 'v2') {
        c.mode = 'v2';
        this.sawV2 = true;
        if (what.line.t !== 'open') {
          this.find('chain-broken', `${name(c.file)} does not begin with an open line: its first lines were removed, or it was not written by a collector`, c.file, [lineNo, lineNo]);
        }
      } else if (what.kind === 'v1') {
        c.mode = 'v1';
        if (this.sawV2) {
          this.find('legacy-after-chain', `${name(c.file)} holds v1 lines (no collector chain) but comes after chained files: a collector never writes them after v2 ones, so it was added or rewritten later`, c.file);
        }
      }
    }
    c.endSeal = undefined;
    if (what.kind === 'v1') this.report.legacyLines++;
    if (c.mode === 'v2') {
      if (what.kind === 'v2') this.chained(c, lineNo, hash, what.line);
      else {
        this.find('unchained-line', `${name(c.file)}:${lineNo} is not a chained v2 line inside a chained file: it was inserted or changed`, c.file, [lineNo, lineNo]);
        c.pendingSealed = 0;
        c.pendingVerified = 0;
        c.prevN = undefined;
      }
    }
    c.prevHash = hash;
    c.lastHash = hash;
    c.lastLine = lineNo;
  }

  private chained(c: FileState, lineNo: number, hash: string, l: V2Line): void {
    this.report.chainedLines++;
    if (c.prevHash === undefined) {
      if (l.t === 'open') {
        c.open = l;
        c.chain = l.chain;
        c.index = l.file;
        c.key = l.key;
      }
    } else {
      const expectedN = c.prevN === undefined ? undefined : c.prevN + 1;
      if (l.p !== c.prevHash) {
        if (expectedN !== undefined && l.n > expectedN) {
          const missing = l.n - expectedN;
          this.find('line-gap', `${missing} line(s) (n ${expectedN}..${l.n - 1}) are missing between ${name(c.file)}:${lineNo - 1} and line ${lineNo}`, c.file, [lineNo - 1, lineNo]);
        } else if (l.t === 'seal' && l.sig !== undefined) {
          this.find('seal-mismatch', `the seal at ${name(c.file)}:${lineNo} does not match the line before it: the lines it covers were changed after sealing`, c.file, [lineNo - 1, lineNo]);
        } else {
          this.find('line-edited', `${name(c.file)}:${lineNo - 1} was changed after it was written (line ${lineNo} does not hold its hash)`, c.file, [lineNo - 1, lineNo]);
        }
        c.pendingSealed = 0;
        c.pendingVerified = 0;
      } else if (expectedN !== undefined && l.n !== expectedN) {
        this.find('line-edited', `${name(c.file)}:${lineNo} was changed after it was written (its line number ${l.n} should be ${expectedN})`, c.file, [lineNo, lineNo]);
        c.pendingSealed = 0;
        c.pendingVerified = 0;
      }
      if (l.t === 'open') {
        this.find('chain-broken', `${name(c.file)}:${lineNo} is an open line in the middle of a file`, c.file, [lineNo, lineNo]);
      }
    }
    c.pendingSealed++;
    c.pendingVerified++;
    if (l.t === 'seal') this.seal(c, lineNo, l);
    c.prevN = l.n;
    c.lastN = l.n;
  }

  private seal(c: FileState, lineNo: number, s: Extract<V2Line, { t: 'seal' }>): void {
    c.lastSealLine = lineNo;
    c.endSeal = s.why;
    if (c.chain !== undefined && s.chain !== c.chain) {
      this.find('seal-mismatch', `the seal at ${name(c.file)}:${lineNo} belongs to another collector run (chain ${s.chain}, the file's is ${c.chain})`, c.file, [lineNo, lineNo]);
      c.pendingSealed = 0;
      c.pendingVerified = 0;
      return;
    }
    if (s.sig === undefined || s.key === undefined) {
      if (c.key !== undefined) {
        this.find('bad-signature', `the seal at ${name(c.file)}:${lineNo} is unsigned, but the file was opened with seal key ${c.key}: its signature was removed`, c.file, [lineNo, lineNo]);
        c.pendingSealed = 0;
        c.pendingVerified = 0;
      }
      return;
    }
    if (c.open !== undefined && s.key !== c.key) {
      this.find('bad-signature', `the seal at ${name(c.file)}:${lineNo} names key ${s.key}, but the file was opened with ${c.key ?? 'no key'}`, c.file, [lineNo, lineNo]);
      c.pendingSealed = 0;
      c.pendingVerified = 0;
      return;
    }
    const trusted = this.keys.get(s.key);
    if (!trusted) {
      if (this.checkingKeys && !c.reportedUnknownKey) {
        c.reportedUnknownKey = true;
        this.find('unknown-key', `${name(c.file)} is sealed with key ${s.key}, which is not among the trusted collector keys (${[...this.keys.keys()].join(', ')}): it was re-sealed by someone else, or the key is missing`, c.file, [lineNo, lineNo]);
      }
      this.report.sealedLines += c.pendingSealed;
      c.pendingSealed = 0;
      c.pendingVerified = 0;
      return;
    }
    let ok = false;
    try {
      ok = verify(null, sealMessage(s), trusted, Buffer.from(s.sig, 'base64'));
    } catch {
      ok = false;
    }
    if (!ok) {
      this.find('bad-signature', `the seal at ${name(c.file)}:${lineNo} does not verify with key ${s.key}: the seal or the lines it covers were rewritten`, c.file, [lineNo, lineNo]);
      c.pendingSealed = 0;
      c.pendingVerified = 0;
      return;
    }
    this.report.sealedLines += c.pendingSealed;
    this.report.verifiedLines += c.pendingVerified;
    c.pendingSealed = 0;
    c.pendingVerified = 0;
  }

  /** The file ended; `torn` when its last bytes were not a complete line. */
  endFile(torn: boolean): void {
    const c = this.cur!;
    this.cur = undefined;
    if (c.mode === 'v2') {
      const closed = c.endSeal === 'rotate' || c.endSeal === 'close';
      if (!closed && c.lastLine > c.lastSealLine) {
        this.find(
          'unsealed-tail',
          `${name(c.file)}: lines ${c.lastSealLine + 1}-${c.lastLine} come after its last seal and the file has no closing seal: the collector was killed or is still writing it, or lines were removed from its end`,
          c.file,
          [c.lastSealLine + 1, c.lastLine],
        );
      } else if (!closed) {
        this.find('unsealed-tail', `${name(c.file)} ends with a periodic seal, not a closing one: the collector was killed or is still writing it, or lines were removed from its end`, c.file, [c.lastLine, c.lastLine]);
      } else if (torn) {
        this.find('unchained-line', `${name(c.file)} has bytes after its closing seal: they were appended later`, c.file, [c.lastLine + 1, c.lastLine + 1]);
      }
    }
    const summary: FileSummary = {
      file: c.file,
      lastHash: c.lastHash,
      lastN: c.lastN,
      mode: c.mode,
      open: c.open,
      chain: c.chain,
      index: c.index,
      endSeal: c.endSeal,
    };
    this.summaries.set(name(c.file), summary);
    this.order.push(summary);
  }

  /** The links between files, once all were read; then the report is final. */
  finish(): SealReport {
    const successors = new Set<string>();
    for (const s of this.order) {
      const o = s.open;
      if (!o) continue;
      if (o.prev) {
        const target = this.summaries.get(o.prev.file);
        const here = name(s.file);
        if (!target) {
          this.find('file-missing', `${o.prev.file}, which ${here} continues, is not in the folder: it was deleted or moved`, s.file, [1, 1]);
        } else if (target.lastHash !== o.p || (o.prev.n !== undefined && target.lastN !== o.prev.n)) {
          this.find('tail-missing', `the end of ${o.prev.file} is not the line ${here} continues: lines were removed from its end, or its last line was changed`, target.file);
        } else if (o.file > 1 && (target.chain !== o.chain || target.index !== o.file - 1)) {
          this.find('chain-broken', `${here} is file ${o.file} of run ${o.chain} but continues ${o.prev.file}, which is not file ${o.file - 1} of that run`, s.file, [1, 1]);
        }
        if (target && o.file > 1) successors.add(`${o.chain}/${o.file - 1}`);
      } else if (o.p !== GENESIS_HASH || o.file !== 1) {
        this.find('chain-broken', `${name(s.file)} continues nothing, yet its open line says it is file ${o.file} with a predecessor`, s.file, [1, 1]);
      }
    }
    for (const s of this.order) {
      if (s.endSeal === 'rotate' && !successors.has(`${s.chain}/${s.index}`)) {
        this.find('file-missing', `the file after ${name(s.file)} (file ${(s.index ?? 0) + 1} of run ${s.chain}) is not in the folder: ${name(s.file)} ended by moving on to it, so it was deleted or moved`, s.file);
      }
    }
    const r = this.report;
    r.authenticated = r.chainedLines > 0 && r.verifiedLines === r.chainedLines && r.legacyLines === 0 && this.findingCount === 0;
    return r;
  }

  private find(kind: SealFindingKind, message: string, file?: string, lines?: [number, number]): void {
    this.findingCount++;
    const list = this.report.findings;
    if (list.length < MAX_FINDINGS) {
      list.push({ kind, message, ...(file === undefined ? {} : { file }), ...(lines === undefined ? {} : { lines }) });
    } else if (list.length === MAX_FINDINGS) {
      list.push({ kind: 'findings-truncated', message: `more findings than ${MAX_FINDINGS}: only the first are listed` });
    }
  }
}

function name(file: string): string {
  return path.basename(file);
}
