/**
 * First-seen pinning of tool definitions (the "rug pull" guard). The first time a server's tool
 * is seen, the hash of its name, description and input schema is pinned (in memory, or in the
 * pins file when one is configured); later a different definition is `changed` until the pin is
 * updated (the entry edited or removed in the pins file, which is re-read when it changes on
 * disk, or `accept()`), and `onChange` is called once per distinct change (again after the pin
 * and the definition agreed in between), as is the observer of the check that found it (observe).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { AuditConfigError } from '@tooltrail/core';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { definitionHash, type PinnedDefinition } from './canonical-json.js';
import { pinsFileKey, readPinsFile, writePinsFile, type PinTable } from './pins-file.js';

/** A definition that no longer matches its pin. */
export interface PinChange {
  readonly server: string;
  readonly tool: string;
  /** The pinned hash. */
  readonly oldHash: string;
  /** The hash of the definition the server now lists. */
  readonly newHash: string;
}

export interface ToolPinsOptions {
  /** The pins file; without it pins live in memory for the process's life. */
  file?: string | undefined;
  /** `deny`: a changed tool stays listed and every call to it is denied; `hide`: also left out of tools/list. */
  onChange: 'deny' | 'hide';
}

export interface ToolPinsStatus {
  readonly file: string | undefined;
  readonly pinned: number;
  readonly changed: number;
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
  /** The pins file on disk does not read: nothing is written over it until it does. */
  #unreadable = false;
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
    this.file = opts.file === undefined ? undefined : resolve(opts.file);
    if (this.file !== undefined) {
      const dir = statSync(dirname(this.file), { throwIfNoEntry: false });
      if (dir === undefined || !dir.isDirectory()) {
        throw new AuditConfigError('invalid pins options', [`the directory of pins file ${this.file} does not exist`]);
      }
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
   * `ok` when the definition matches its pin (or was seen now for the first time, and pinned);
   * `changed` when it differs from the pin. A change is reported to `onChange` once.
   */
  check(server: string, tool: PinnedDefinition): 'ok' | 'changed' {
    const newHash = this.#hashOf(tool);
    this.#refresh();
    let pins = this.#table.get(server);
    const oldHash = pins?.get(tool.name);
    const key = `${server}\u0000${tool.name}`;
    if (oldHash === undefined) {
      if (pins === undefined) this.#table.set(server, (pins = new Map()));
      pins.set(tool.name, newHash);
      if (this.#changed.delete(key)) this.#forgetReported(key);
      this.#persist();
      return 'ok';
    }
    if (oldHash === newHash) {
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
    return this.#changed.get(`${server}\u0000${tool}`);
  }

  /** Re-pins a tool to this definition (an operator accepted the change); writes the pins file. */
  accept(server: string, tool: PinnedDefinition): string {
    const hash = definitionHash(tool);
    this.#refresh();
    let pins = this.#table.get(server);
    if (pins === undefined) this.#table.set(server, (pins = new Map()));
    pins.set(tool.name, hash);
    this.#changed.delete(`${server}\u0000${tool.name}`);
    this.#forgetReported(`${server}\u0000${tool.name}`);
    this.#persist();
    return hash;
  }

  status(): ToolPinsStatus {
    let pinned = 0;
    for (const pins of this.#table.values()) pinned += pins.size;
    return { file: this.file, pinned, changed: this.#changed.size, lastError: this.#lastError };
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
    try {
      this.#table = readPinsFile(this.file);
      this.#fileKey = key;
      this.#lastError = undefined;
      this.#unreadable = false;
    } catch (err) {
      // Not remembered as read: the next check tries again, and nothing is written over the
      // operator's file meanwhile (#persist skips while it does not read).
      this.#lastError = err instanceof Error ? err.message : String(err);
      this.#unreadable = true;
    }
  }

  #persist(): void {
    if (this.file === undefined || this.#unreadable) return;
    try {
      writePinsFile(this.file, this.#table);
      this.#fileKey = pinsFileKey(this.file);
      this.#lastError = undefined;
    } catch (err) {
      this.#lastError = `cannot write pins file ${this.file}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}
