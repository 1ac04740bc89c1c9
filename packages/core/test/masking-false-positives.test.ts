import { describe, expect, it } from 'vitest';
import { createMaskingEncoder } from '../src/index.js';
import { EncodeReport } from '../src/payload/encode-report.js';
import { FALSE_POSITIVES } from './fixtures/false-positives.js';

const encoder = createMaskingEncoder({ hashKey: 'false-positive-test-hmac-key-0123' }, { logger: { warn() {} } });

/** What the default encoder records for `value`, and what it counted. */
function mask(value: unknown): { json: string; report: EncodeReport } {
  const report = new EncodeReport();
  const json = encoder.json(value, { tool: 't', field: 'arguments', report });
  return { json, report };
}

describe('false positives', () => {
  it('has a corpus of at least 120 distinct ordinary values', () => {
    expect(FALSE_POSITIVES.length).toBeGreaterThanOrEqual(120);
    expect(new Set(FALSE_POSITIVES).size).toBe(FALSE_POSITIVES.length);
  });

  it('records every ordinary value unchanged alone, in prose, as an object value and as a key', () => {
    const touched: string[] = [];
    for (const v of FALSE_POSITIVES) {
      const placements: unknown[] = [
        v,
        `Note for the team: ${v} (as discussed), see you then.`,
        { field: v, list: [v] },
        // A key-name rule masks what a key holds, so the key's value is a boolean, which no rule
        // masks: this checks the key text itself.
        { [v]: true },
        { nested: { [`${v} / ${v}`]: true } },
      ];
      for (const value of placements) {
        const { json, report } = mask(value);
        if (json !== JSON.stringify(value) || report.masked !== 0) touched.push(`${JSON.stringify(value)} -> ${json} [${report.kinds.join(', ')}]`);
      }
    }
    expect(touched).toEqual([]);
  });

  it('records the whole corpus unchanged as one object and as one block of prose', () => {
    const object = Object.fromEntries(FALSE_POSITIVES.map((v, i) => [`value_${i}`, v]));
    const { json, report } = mask(object);
    expect(json).toBe(JSON.stringify(object));
    expect(report.masked).toBe(0);
    const prose = FALSE_POSITIVES.join('. ');
    expect(encoder.text(prose, { tool: 't', field: 'error' })).toBe(prose);
  });
});
