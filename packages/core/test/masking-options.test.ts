import { describe, expect, it } from 'vitest';
import { AuditConfigError, createMaskingEncoder, unknownOptionKeys } from '../src/index.js';

const KEY = 'masking-options-hmac-key-0123456789';
const quiet = { logger: { warn() {} } };

/** The AuditConfigError `fn` throws (synchronously). */
function configError(fn: () => unknown): AuditConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuditConfigError);
    return err as AuditConfigError;
  }
  throw new Error('expected an AuditConfigError');
}

describe('createMaskingEncoder() on its own: an unknown key names the nearest valid name', () => {
  it('top-level options, detectors, and the dependencies', () => {
    const message = (options: unknown, deps: unknown = quiet) => configError(() => createMaskingEncoder(options as never, deps as never)).message;
    expect(message({ hashKey: KEY, kys: ['ticket'] })).toBe('invalid masking options: unknown option `masking.kys`; did you mean `masking.keys`?');
    expect(message({ hashkey: KEY })).toBe('invalid masking options: unknown option `masking.hashkey`; did you mean `masking.hashKey`?');
    expect(message({ hashKey: KEY, detectors: [{ id: 'ticket', pattern: /T-\d+/, stratgy: 'hash' }] })).toBe(
      'invalid masking options: unknown option `masking.detectors[0].stratgy`; did you mean `masking.detectors[0].strategy`?',
    );
    // A tool's `result` is not an encoder option: no close name, the valid ones are listed.
    expect(message({ hashKey: KEY, result: 'digest' })).toBe(
      'invalid masking options: unknown option `masking.result`; valid options here: strategies, disable, detectors, keys, allowKeys, maxPayloadBytes, hashKey',
    );
    expect(configError(() => createMaskingEncoder({ hashKey: KEY, alowKeys: [], maxPayloadByte: 1 } as never, quiet)).issues).toEqual([
      'unknown option `masking.alowKeys`; did you mean `masking.allowKeys`?',
      'unknown option `masking.maxPayloadByte`; did you mean `masking.maxPayloadBytes`?',
    ]);
    expect(message({ hashKey: KEY }, { loger: { warn() {} } })).toBe('invalid createMaskingEncoder() dependencies: unknown option `loger`; did you mean `logger`?');
    expect(() => createMaskingEncoder({ hashKey: KEY, keys: ['ticket'], allowKeys: ['id'] }, { logger: { warn() {} }, env: {} })).not.toThrow();
  });
});

describe('unknownOptionKeys(), the check the framework adapters share', () => {
  it('names the key after its prefix and checks the core retry and masking groups inside', () => {
    expect(unknownOptionKeys({ retyr: {}, retry: { attempt: 2 }, masking: { reslt: 'digest' } }, ['retry', 'masking'], 'tools.search.')).toEqual([
      'unknown option `tools.search.retyr`; did you mean `tools.search.retry`?',
      'unknown option `tools.search.retry.attempt`; did you mean `tools.search.retry.attempts`?',
      'unknown option `tools.search.masking.reslt`; did you mean `tools.search.masking.result`?',
    ]);
    // Groups the options do not have are not looked into; values are not its business.
    expect(unknownOptionKeys({ retry: { attempt: 2 } }, ['policy'])).toEqual([
      'unknown option `retry`; valid options here: policy',
    ]);
    expect(unknownOptionKeys({ retry: 5, masking: 'off' }, ['retry', 'masking'])).toEqual([]);
    expect(unknownOptionKeys('not an object', ['retry'])).toEqual([]);
  });
});
