import { describe, expect, it } from 'vitest';
import type { PlantedSecret } from '../src/review/check/canary.js';
import { findSecrets, secretForms, type SecretHit } from '../src/review/check/read-back.js';

const SECRET = ['AKIA', 'Q3EXAMPLE', '7FAKEKEY'].join('');
const CARD = ['4111', '1111', '1111', '1111'].join(' ');

describe("tooltrail check's secret search", () => {
  it('finds a planted secret stored re-encoded: base64 and base64url at every alignment, percent-encoded, a card as its digits', () => {
    const secrets: PlantedSecret[] = [
      { kind: 'aws_access_key_id', value: SECRET },
      { kind: 'card_number', value: CARD },
    ];
    for (const pad of ['', 'x', 'xy']) {
      for (const enc of ['base64', 'base64url'] as const) {
        const stored = Buffer.from(`{"note":"${Buffer.from(`${pad}key ${SECRET} end`, 'utf8').toString(enc)}"}\n`);
        const hits: SecretHit[] = [];
        findSecrets(stored, secrets, (l) => `line ${l}`, hits);
        expect(hits.map((h) => h.kind), `${enc} after ${JSON.stringify(pad)}`).toContain('aws_access_key_id');
      }
    }
    const hits: SecretHit[] = [];
    findSecrets(Buffer.from(`a\n{"card":"4111111111111111","q":"${encodeURIComponent(CARD)}"}\n`), secrets, (l) => `line ${l}`, hits);
    expect(hits).toEqual([
      { kind: 'card_number', where: 'line 2 (as its digits)' },
      { kind: 'card_number', where: 'line 2 (percent-encoded)' },
    ]);
  });

  it('does not flag masked records: the forms are long enough not to occur by chance', () => {
    for (const f of secretForms(SECRET)) expect(f.needle.length).toBeGreaterThanOrEqual(12);
    const hits: SecretHit[] = [];
    findSecrets(Buffer.from('{"note":"key [REDACTED:aws_access_key_id] end","card":"****1111"}\n'), [{ kind: 'aws_access_key_id', value: SECRET }, { kind: 'card_number', value: CARD }] satisfies PlantedSecret[], (l) => `line ${l}`, hits);
    expect(hits).toEqual([]);
  });
});
