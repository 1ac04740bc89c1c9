/**
 * Rewrites of dotted argument paths, copy on write: the caller's arguments are never mutated
 * (the proposed arguments are recorded as they were), only the containers on the path are
 * copied. A segment of digits indexes an array; a missing container on a `set` path is created.
 */

type Container = Record<string, unknown> | unknown[];

const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);

function isContainer(v: unknown): v is Container {
  return typeof v === 'object' && v !== null;
}

function copy(v: Container): Container {
  return Array.isArray(v) ? v.slice() : { ...v };
}

function index(container: Container, seg: string): number | undefined {
  if (!Array.isArray(container) || !/^\d+$/.test(seg)) return undefined;
  return Number(seg);
}

function get(container: Container, seg: string): unknown {
  const i = index(container, seg);
  if (i !== undefined) return (container as unknown[])[i];
  return Object.prototype.hasOwnProperty.call(container, seg) ? (container as Record<string, unknown>)[seg] : undefined;
}

function put(container: Container, seg: string, value: unknown): void {
  const i = index(container, seg);
  if (i !== undefined) (container as unknown[])[i] = value;
  else Object.defineProperty(container, seg, { value, writable: true, enumerable: true, configurable: true });
}

function drop(container: Container, seg: string): void {
  const i = index(container, seg);
  if (i !== undefined) (container as unknown[]).splice(i, 1);
  else delete (container as Record<string, unknown>)[seg];
}

export function checkRewritePath(path: string): string | undefined {
  for (const seg of path.split('.')) if (UNSAFE.has(seg)) return `path ${path}: segment ${seg} is not allowed`;
  return undefined;
}

/** `args` with `path` set to `value`; JSON values are copied so two calls never share one. */
export function setPath(args: unknown, path: string, value: unknown): unknown {
  const segs = path.split('.');
  const root: Container = isContainer(args) ? copy(args) : {};
  let node = root;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i] as string;
    const next = get(node, seg);
    const child: Container = isContainer(next) ? copy(next) : /^\d+$/.test(segs[i + 1] as string) ? [] : {};
    put(node, seg, child);
    node = child;
  }
  put(node, segs[segs.length - 1] as string, structuredClone(value));
  return root;
}

/** `args` without `path`; unchanged (the same value) when there is nothing at the path. */
export function removePath(args: unknown, path: string): unknown {
  if (!isContainer(args)) return args;
  const segs = path.split('.');
  const chain: Container[] = [args];
  for (let i = 0; i < segs.length - 1; i++) {
    const next = get(chain[i] as Container, segs[i] as string);
    if (!isContainer(next)) return args;
    chain.push(next);
  }
  const last = segs[segs.length - 1] as string;
  const parent = chain[chain.length - 1] as Container;
  if (index(parent, last) === undefined && !Object.prototype.hasOwnProperty.call(parent, last)) return args;
  if (index(parent, last) !== undefined && Number(last) >= (parent as unknown[]).length) return args;
  // Copy the chain top-down, then drop the key from the copied parent.
  const copies = chain.map(copy);
  for (let i = 0; i < copies.length - 1; i++) put(copies[i] as Container, segs[i] as string, copies[i + 1]);
  drop(copies[copies.length - 1] as Container, last);
  return copies[0];
}
