import { describe, expect, it } from 'vitest';
import { createMaskingEncoder } from '../src/index.js';

/** A candidate its validator rejects may hide a valid one inside it: the scanner looks again from the next character. */

const encoder = createMaskingEncoder({ hashKey: 'rejected-candidates-hmac-key-0123456789' }, { logger: { warn() {} } });
const text = (s: string) => encoder.text(s, { tool: 't', field: 'error' });

describe('a rejected candidate', () => {
  it('does not hide a valid value inside it (found by the property test: "BE PL5273918461")', () => {
    for (const prefix of ['BE ', 'DE ', 'AT ']) {
      const out = text(`${prefix}PL5273918461`);
      expect(out).not.toContain('PL5273918461');
      expect(out).toMatch(/^[A-Z]{2} \[eu_vat_number:[0-9a-f]{12}\]$/);
    }
  });
});
