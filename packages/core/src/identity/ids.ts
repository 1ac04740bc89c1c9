import { randomUUID } from 'node:crypto';
import { randomHex } from '../tracing/ids.js';

/** Run ids are UUIDs: unique across processes, safe to show, no meaning to guess from. */
export function newRunId(): string {
  return randomUUID();
}

/** `call_` + 24 hex characters (96 random bits). */
export function newCallId(): string {
  return `call_${randomHex(12)}`;
}
