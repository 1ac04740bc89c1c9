/**
 * First-seen pinning of tool definitions (the "rug pull" guard). The first time a server's tool
 * is seen, the hash of its name, description and input schema is pinned (in memory, or in the
 * pins file when one is configured); later a different definition is `changed` until the pin is
 * updated (the entry edited or removed in the pins file, which is re-read when it changes on
 * disk, or `accept()`), and `onChange` is called once per distinct change (again after the pin
 * and the definition agreed in between), as is the observer of the check that found it (observe).
 *
 * The latest definition listed (by any connection, `listed`) decides for every connection: one
 * session's older cached copy that matches the pin does not un-change a tool another session saw
 * changed. A pin that cannot be kept in the pins file (folder not writable, file unreadable) is
 * not taken: the tool is `changed` with `unkept` set (its calls denied) until the file is writable.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { AuditConfigError } from '@tooltrail/core';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { worthWarning } from '../shared/worth-warning.js';
import { definitionHash, type PinnedDefinition } from './canonical-json.js';
import { assertWritableFolder, pinsFileKey, readPinsFile, writePinsFile, type PinTable } from './pins-file.js';

/** A definition that no longer matches its pin. */
export interface PinChange {
  readonly server: string;
  readonly tool: string;
  /** The pinned hash ('' when `unkept`: nothing is pinned). */
  readonly oldHash: string;
  /** The hash of the definition the server now lists. */
  readonly newHash: string;
  /**
   * Set when the tool is seen for the first time and its pin cannot be kept in the pins file
   * (why): not a definition change (no tool_changed record), but its calls are denied all the same.
   */
  readonly unkept?: string;
}

export interface ToolPinsOptions {
  /** The pins file; without it pins live in memory for the process's life. */
  file?: string | undefined;
  /** `deny`: a changed tool stays listed and every call to it is denied; `hide`: also left out of tools/list. */
  onChange: 'deny' | 'hide';
  /** Where a failure to write or re-read the pins file is warned (default: nowhere). */
  warn?: ((message: string) => void) | undefined;
}

export interface ToolPinsStatus {
  readonly file: string | undefined;
  readonly pinned: number;
  readonly changed: number;
  /** Tools seen for the first time whose pin could not be kept (their calls denied). */
  readonly unkept: number;
  /** The last failure to re-read or write the pins file (the pins in memory stay in force). */
  readonly lastError: string | undefined;
}

export class ToolPins {
  readonly file: string | undefined;
  readonly onChange: 'deny' | 'hide';
  readonly #notify: (change: PinChange) => void;
  #table: PinTable;
  #fileKey: string | undefined;
  #lastError: string | undefined;
  readonly #warn: (message: string) => void;
  /** Failures so far, warned at the 1st, 10th, 100th...: a broken file is said, not said per call. */
  readonly #failures = { write: 0, read: 0 };
  /** The pins file on disk does not read: nothing is written over it until it does. */
  #unreadable = false;
  /** The latest definition listed per `server \0 tool` (by any connection), and its hash. */
  readonly #latest = new Map<string, { def: PinnedDefinition; hash: string }>();
  /** Every definition object passed to `listed`: such an object that is no longer the latest is a stale cached copy. */
  readonly #listings = new WeakSet<PinnedDefinition>();
  /** A change only the checking connection's stale copy shows (the latest listing agrees with the pin): for `changeOf`. */
  readonly #staleChanges = new Map<string, PinChange>();
  /** `server \0 tool \0 newHash` of every change reported, so each is reported once. */
  readonly #reported = new Set<string>();
  readonly #changed = new Map<string, PinChange>();
  /** Who saw the check that found a change: the connection whose trail records it (observe). */
  readonly #observer = new AsyncLocalStorage<(change: PinChange) => void>();
  /**
   * The hash of each definition object already hashed: every `tools/call` checks the definition
   * its server last listed, the same object each time, and canonical JSON + SHA-256 of a schema
   * per call was a few percent of the gateway's CPU. Kept only while the three fields are the
   * very values hashed (a definition replaced or reassigned is hashed again); nothing in the
   * gateway edits a listed definition in place (the router keeps them as they came).
   */
  readonly #hashes = new WeakMap<PinnedDefinition, { name: string; description: unknown; inputSchema: unknown; hash: string }>();

  /** Throws an AuditConfigError when the pins file cannot be read or is not a valid pins file. */
  constructor(opts: ToolPinsOptions, onChange: (change: PinChange) => void = () => {}) {
    if (opts.onChange !== 'deny' && opts.onChange !== 'hide') {
      throw new AuditConfigError('invalid pins options', [`onChange must be 'deny' or 'hide', not ${JSON.stringify(opts.onChange)}`]);
    }
    this.onChange = opts.onChange;
    this.#notify = onChange;
    this.#warn = opts.warn ?? (() => {});
    this.file = opts.file === undefined ? undefined : resolve(opts.file);
    if (this.file !== undefined) {
      const dir = statSync(dirname(this.file), { throwIfNoEntry: false });
      if (dir === undefined || !dir.isDirectory()) {
        throw new AuditConfigError('invalid pins options', [`the directory of pins file ${this.file} does not exist`]);
      }
      assertWritableFolder(this.file);
      this.#fileKey = pinsFileKey(this.file);
      this.#table = readPinsFile(this.file);
    } else {
      this.#table = new Map();
    }
  }

  /** The pin hash of a definition: `sha256:` + hex of the canonical JSON of name, description, inputSchema. */
  hash(tool: PinnedDefinition): string {
    return definitionHash(tool);
  }

  /** The hash `server`'s `tool` is pinned to, if any. */
  pinned(server: string, tool: string): string | undefined {
    this.#refresh();
    return this.#table.get(server)?.get(tool);
  }

  /**
   * Notes a server's listing (a tools/list of any connection): each definition becomes the latest
   * of its tool, against which every connection's calls are checked.
   */
  listed(server: string, tools: readonly PinnedDefinition[]): void {
    for (const tool of tools) {
      this.#listings.add(tool);
      this.#latest.set(`${server}\u0000${tool.name}`, { def: tool, hash: this.#hashOf(tool) });
    }
  }

  /**
   * `ok` when the definition matches its pin (or was seen now for the first time, and pinned);
   * `changed` when it differs from the pin, when the latest listing of the tool does (`tool` is
   * an older copy one connection cached), or when a first pin cannot be kept in the pins file.
   * A change is reported to `onChange` once.
   */
  check(server: string, tool: PinnedDefinition): 'ok' | 'changed' {
    const key = `${server}\u0000${tool.name}`;
    const own = this.#hashOf(tool);
    const latest = this.#latest.get(key);
    // A listed copy that is not the latest is one connection's stale cache: the latest decides,
    // and the copy that connection's agent was shown must agree with the pin too.
    const stale = latest !== undefined && latest.def !== tool && this.#listings.has(tool);
    if (!stale) this.#latest.set(key, { def: tool, hash: own });
    const newHash = stale ? latest.hash : own;
    this.#staleChanges.delete(key);
    this.#refresh();
    let pins = this.#table.get(server);
    const oldHash = pins?.get(tool.name);
    if (oldHash === undefined) {
      const created = pins === undefined;
      if (pins === undefined) this.#table.set(server, (pins = new Map()));
      pins.set(tool.name, newHash);
      const failed = this.#persist();
      if (failed !== undefined) {
        // A pin that is not kept protects nothing after a restart: not taken, the tool not allowed.
        pins.delete(tool.name);
        if (created) this.#table.delete(server);
        this.#changed.set(key, { server, tool: tool.name, oldHash: '', newHash, unkept: failed });
        return 'changed';
      }
      if (this.#changed.delete(key)) this.#forgetReported(key);
      return 'ok';
    }
    if (oldHash === newHash) {
      if (this.#changed.get(key)?.unkept !== undefined) this.#changed.delete(key);
      if (stale && own !== oldHash) {
        this.#staleChanges.set(key, { server, tool: tool.name, oldHash, newHash: own });
        return 'changed';
      }
      if (this.#changed.delete(key)) this.#forgetReported(key);
      return 'ok';
    }
    const change: PinChange = { server, tool: tool.name, oldHash, newHash };
    this.#changed.set(key, change);
    const reportKey = `${key}\u0000${oldHash}\u0000${newHash}`;
    if (!this.#reported.has(reportKey)) {
      this.#reported.add(reportKey);
      this.#notify(change);
      this.#observer.getStore()?.(change);
    }
    return 'changed';
  }

  /**
   * Runs `fn` with `onChange` told of every change first reported by a check inside it (also
   * after its awaits): the connection that lists or calls a tool is the one that records the change.
   */
  observe<T>(onChange: (change: PinChange) => void, fn: () => T): T {
    return this.#observer.run(onChange, fn);
  }

  /** After the pin and the definition agree again (pin updated, or the server reverted), the next change is reported anew. */
  #forgetReported(key: string): void {
    const prefix = `${key}\u0000`;
    for (const r of this.#reported) if (r.startsWith(prefix)) this.#reported.delete(r);
  }

  /** The change in force for a tool (after a `changed` check), for the denial's record. */
  changeOf(server: string, tool: string): PinChange | undefined {
    const key = `${server}\u0000${tool}`;
    return this.#staleChanges.get(key) ?? this.#changed.get(key);
  }

  /** Re-pins a tool to this definition (an operator accepted the change); writes the pins file. */
  accept(server: string, tool: PinnedDefinition): string {
    const hash = definitionHash(tool);
    this.#refresh();
    let pins = this.#table.get(server);
    if (pins === undefined) this.#table.set(server, (pins = new Map()));
    pins.set(tool.name, hash);
    this.#latest.set(`${server}\u0000${tool.name}`, { def: tool, hash: this.#hashOf(tool) });
    this.#changed.delete(`${server}\u0000${tool.name}`);
    this.#forgetReported(`${server}\u0000${tool.name}`);
    this.#persist();
    return hash;
  }

  status(): ToolPinsStatus {
    let pinned = 0;
    for (const pins of this.#table.values()) pinned += pins.size;
    let changed = 0;
    for (const c of this.#changed.values()) if (c.unkept === undefined) changed++;
    return { file: this.file, pinned, changed, unkept: this.#changed.size - changed, lastError: this.#lastError };
  }

  #hashOf(tool: PinnedDefinition): string {
    const known = this.#hashes.get(tool);
    if (known !== undefined && known.name === tool.name && known.description === tool.description && known.inputSchema === tool.inputSchema) return known.hash;
    const hash = definitionHash(tool);
    this.#hashes.set(tool, { name: tool.name, description: tool.description, inputSchema: tool.inputSchema, hash });
    return hash;
  }

  /** Re-reads the pins file when it changed on disk (an operator updated a pin). A bad file keeps the pins in memory. */
  #refresh(): void {
    if (this.file === undefined) return;
    const key = pinsFileKey(this.file);
    if (key === this.#fileKey) return;
    if (key === undefined) {
      // The file was there and is gone: an empty table would re-pin every tool from its latest
      // listing (a rug pull made good). The pins in memory stay in force and are written again
      // at the next new pin; an operator resets a pin by editing the file, not by deleting it.
      this.#fileKey = undefined;
      this.#failed('read', `tooltrail gateway: pins file ${this.file} is gone; the ${this.#count()} pin(s) in memory stay in force and are written again at the next new pin`);
      return;
    }
    try {
      this.#table = readPinsFile(this.file);
      this.#fileKey = key;
      this.#lastError = undefined;
      this.#unreadable = false;
    } catch (err) {
      // Not remembered as read: the next check tries again, and nothing is written over the
      // operator's file meanwhile (#persist refuses while it does not read).
      this.#lastError = err instanceof Error ? err.message : String(err);
      this.#unreadable = true;
      this.#failed('read', `tooltrail gateway: pins file ${this.file} cannot be re-read (the pins in memory stay in force; tools seen for the first time are denied until it reads): ${this.#lastError}`);
    }
  }

  #count(): number {
    let n = 0;
    for (const pins of this.#table.values()) n += pins.size;
    return n;
  }

  /** Writes the table; the reason it could not, or undefined when it was written (or there is no file). */
  #persist(): string | undefined {
    if (this.file === undefined) return undefined;
    if (this.#unreadable) return `pins file ${this.file} does not read (${this.#lastError ?? 'unknown error'}) and is not written over`;
    try {
      writePinsFile(this.file, this.#table);
      this.#fileKey = pinsFileKey(this.file);
      this.#lastError = undefined;
      return undefined;
    } catch (err) {
      this.#lastError = `cannot write pins file ${this.file}: ${err instanceof Error ? err.message : String(err)}`;
      this.#failed('write', `tooltrail gateway: ${this.#lastError} (a tool seen for the first time is not pinned, and its calls are denied, until it can be written)`);
      return this.#lastError;
    }
  }

  #failed(kind: 'write' | 'read', message: string): void {
    const n = ++this.#failures[kind];
    if (worthWarning(n)) this.#warn(n === 1 ? message : `${message} [${n} failures so far]`);
  }
}
