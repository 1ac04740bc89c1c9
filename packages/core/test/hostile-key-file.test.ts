import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditConfigError, createAuditor, loadPublicKey } from '../src/index.js';

// A signing key path that is a FIFO used to block the process on open; /dev/zero was read
// without end. Both are configuration errors, raised at once.
const dir = mkdtempSync(path.join(tmpdir(), 'tooltrail-keyfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(process.platform === 'win32' || !existsSync('/dev/zero'))('special files as key files', () => {
  it('integrity.signingKey and loadPublicKey refuse a FIFO and /dev/zero with AuditConfigError', () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const file of [fifo, '/dev/zero']) {
      expect(() => createAuditor({ serviceName: 'keyfile', spoolDir: path.join(dir, 'spool'), integrity: { signingKey: file } })).toThrow(AuditConfigError);
      expect(() => createAuditor({ serviceName: 'keyfile', spoolDir: path.join(dir, 'spool'), integrity: { signingKey: file } })).toThrow(/is not a regular file/);
      expect(() => loadPublicKey(file)).toThrow(/public key unusable: public key file .* is not a regular file/);
    }
  });
});
