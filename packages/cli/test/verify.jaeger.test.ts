import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createAuditor, generateSigningKeyPair, setDefaultAuditor } from '@tooltrail/core';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, runCli, tempDir } from './helpers.js';

// An intact run verified clean through the real Jaeger the suite's global setup started
// (scripts/jaeger.sh: OTLP/HTTP on 127.0.0.1:4318, query API on 127.0.0.1:16686).

const QUERY = 'http://127.0.0.1:16686';
afterAll(cleanup);

interface VerifyJson {
  ok: boolean;
  verdict: string;
  report: { streams: { records: number; checkpoints: number; ended: boolean; findings: { kind: string }[] }[] };
}

async function verifyJaeger(service: string, extra: string[]): Promise<{ code: number | null; out: VerifyJson }> {
  const run = runCli(['verify', '--jaeger', QUERY, '--service', service, '--since', '1h', '--json', ...extra]);
  const { code } = await run.exited;
  return { code, out: JSON.parse(run.stdout()) as VerifyJson };
}

describe('tooltrail verify --jaeger', () => {
  it('verifies an intact run read back from Jaeger: every hash, MAC and signature', async () => {
    const dir = await tempDir();
    const keys = generateSigningKeyPair();
    const other = generateSigningKeyPair();
    const pub = path.join(dir, 'signing.pub');
    const otherPub = path.join(dir, 'other.pub');
    const mac = path.join(dir, 'mac.key');
    writeFileSync(pub, keys.publicKeyPem);
    writeFileSync(otherPub, other.publicKeyPem);
    writeFileSync(mac, 'jaeger-integrity-key-0123456789ab');
    const service = `verify-jaeger-${Date.now()}`;
    const auditor = createAuditor({
      serviceName: service,
      endpoint: 'http://127.0.0.1:4318',
      spoolDir: path.join(dir, 'spool'),
      logger: { warn() {} },
      integrity: { macKey: 'jaeger-integrity-key-0123456789ab', signingKey: keys.privateKeyPem, checkpointEvery: 4 },
    });
    setDefaultAuditor(undefined);
    const tool = auditor.withAudit(async (n: number) => ({ n }), { name: 'step' });
    const failing = auditor.withAudit(
      async () => {
        throw new RangeError('out of range');
      },
      { name: 'fails' },
    );
    await auditor.run({ principal: { id: 'user:9' } }, async () => {
      for (let i = 0; i < 13; i++) {
        await tool(i);
        await new Promise((r) => setImmediate(r));
      }
      await failing().catch(() => undefined);
    });
    expect(await auditor.shutdown(10_000)).toBe(true);

    // Jaeger ingests asynchronously: verify until it has everything, within a bound.
    let last: { code: number | null; out: VerifyJson } | undefined;
    for (let i = 0; i < 40; i++) {
      last = await verifyJaeger(service, ['--public-key', pub, '--mac-key-file', mac]);
      if (last.code === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(last!.code).toBe(0);
    const [stream] = last!.out.report.streams;
    // The stream start, 14 calls (one record each: one attempt, no attempt record) and the run span; checkpoints at 1 (the signed stream
    // start), 4, 8, 12, 16 and the stream end (an empty range after 16).
    expect(stream).toMatchObject({ records: 16, checkpoints: 6, ended: true, findings: [] });
    expect(last!.out.verdict).toBe('verified');

    // The same data against a key that did not sign it: every checkpoint is flagged.
    const wrong = await verifyJaeger(service, ['--public-key', otherPub]);
    expect(wrong.code).toBe(1);
    expect(wrong.out.report.streams[0]!.findings.map((f) => f.kind)).toEqual(['unknown-key']);
    // And without a key: nothing found, nothing authenticated.
    const bare = await verifyJaeger(service, []);
    expect(bare.code).toBe(3);
    expect(bare.out.verdict).toBe('not-authenticated');
  });
});
