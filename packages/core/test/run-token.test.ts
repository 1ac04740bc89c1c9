import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import {
  AuditConfigError,
  createAuditor,
  currentRun,
  currentRunToken,
  mintRunToken,
  runTokenKeyId,
  verifyRunToken,
  MAX_RUN_TOKEN_TTL_MS,
  RUN_TOKEN_CLOCK_SKEW_MS,
  type RunTokenVerification,
} from '../src/index.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const T0 = 1_750_000_000_000;
const alice = { runId: 'run-1', principal: { id: 'user:42', type: 'user' }, agent: { name: 'ops-bot', id: 'bot-1' } };

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

/** A token over any payload text, signed properly: for the checks made after the signature. */
function signedRaw(payloadText: string, key: KeyObject = privateKey): string {
  const head = `tt1.${b64(payloadText)}`;
  return `${head}.${sign(null, Buffer.from(head, 'ascii'), key).toString('base64url')}`;
}

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { v: 1, kid: runTokenKeyId(publicKey), runId: 'run-1', principal: { id: 'user:42' }, iat: T0, exp: T0 + 60_000, ...over };
}

function rejected(r: RunTokenVerification): { reason: string; message: string } {
  if (r.ok) throw new Error('expected a rejection');
  return { reason: r.reason, message: r.message };
}

describe('mintRunToken / verifyRunToken', () => {
  it('round-trips every claim, with KeyObjects and with PEM text', () => {
    const token = mintRunToken({ ...alice, expiresInMs: 60_000, now: T0 }, privateKey);
    expect(token).toMatch(/^tt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$/);
    const r = verifyRunToken(token, publicKey, T0 + 1);
    expect(r).toEqual({
      ok: true,
      claims: { runId: 'run-1', principal: { id: 'user:42', type: 'user' }, agent: { name: 'ops-bot', id: 'bot-1' }, issuedAt: T0, expiresAt: T0 + 60_000, keyId: runTokenKeyId(publicKey) },
    });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const privPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(verifyRunToken(mintRunToken({ ...alice, now: T0 }, privPem), pem, T0).ok).toBe(true);
    // a token without agent has no agent claim
    const bare = verifyRunToken(mintRunToken({ runId: 'r', principal: { id: 'svc' }, now: T0 }, privateKey), publicKey, T0);
    expect(bare.ok && bare.claims.agent).toBeUndefined();
  });

  it('accepts any of several keys (rotation) and names the one that signed', () => {
    const token = mintRunToken({ ...alice, now: T0 }, other.privateKey);
    const r = verifyRunToken(token, [publicKey, other.publicKey], T0);
    expect(r.ok && r.claims.keyId).toBe(runTokenKeyId(other.publicKey));
  });

  it('expiry and not-yet-valid follow the injected clock', () => {
    const token = mintRunToken({ ...alice, expiresInMs: 60_000, now: T0 }, privateKey);
    expect(verifyRunToken(token, publicKey, T0 + 59_999).ok).toBe(true);
    expect(rejected(verifyRunToken(token, publicKey, T0 + 60_000)).reason).toBe('expired');
    expect(rejected(verifyRunToken(token, publicKey, T0 + 3_600_000)).reason).toBe('expired');
    expect(verifyRunToken(token, publicKey, T0 - RUN_TOKEN_CLOCK_SKEW_MS).ok).toBe(true);
    expect(rejected(verifyRunToken(token, publicKey, T0 - RUN_TOKEN_CLOCK_SKEW_MS - 1)).reason).toBe('not_yet_valid');
  });

  it('rejects the wrong shape before anything is decoded', () => {
    const good = mintRunToken({ ...alice, now: T0 }, privateKey);
    const [, body, sig] = good.split('.') as [string, string, string];
    expect(rejected(verifyRunToken(42, publicKey, T0)).reason).toBe('malformed');
    expect(rejected(verifyRunToken(undefined, publicKey, T0)).reason).toBe('malformed');
    expect(rejected(verifyRunToken(`tt1.${body}`, publicKey, T0)).reason).toBe('malformed');
    expect(rejected(verifyRunToken(`${good}.x`, publicKey, T0)).reason).toBe('malformed');
    expect(rejected(verifyRunToken(`tt1.${'A'.repeat(9000)}.${sig}`, publicKey, T0)).reason).toBe('malformed');
    expect(rejected(verifyRunToken(`tt2.${body}.${sig}`, publicKey, T0)).reason).toBe('prefix');
    expect(rejected(verifyRunToken(`TT1.${body}.${sig}`, publicKey, T0)).reason).toBe('prefix');
    expect(rejected(verifyRunToken(`Bearer tt1.${body}.${sig}`, publicKey, T0)).reason).toBe('prefix');
  });

  it('rejects base64url that is not canonical: padding, other alphabets, stray bits, empty payload', () => {
    const good = mintRunToken({ ...alice, now: T0 }, privateKey);
    const [, body, sig] = good.split('.') as [string, string, string];
    expect(rejected(verifyRunToken(`tt1.${body}=.${sig}`, publicKey, T0)).reason).toBe('base64');
    expect(rejected(verifyRunToken(`tt1.${body.replace(/-|_/g, '+')}+/.${sig}`, publicKey, T0)).reason).toBe('base64');
    expect(rejected(verifyRunToken(`tt1.${body}.${sig}==`, publicKey, T0)).reason).toBe('base64');
    expect(rejected(verifyRunToken(`tt1..${sig}`, publicKey, T0)).reason).toBe('base64');
    // 86 characters hold 64 bytes and 4 spare bits: a last character that sets them is not canonical
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const lastIndex = alphabet.indexOf(sig.at(-1)!);
    const stray = sig.slice(0, -1) + alphabet[(lastIndex & 0x30) | 1];
    expect(Buffer.from(stray, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
    expect(rejected(verifyRunToken(`tt1.${body}.${stray}`, publicKey, T0)).reason).toBe('base64');
  });

  it('rejects an unsigned token, a wrong key, a tampered payload and a forged signature', () => {
    const good = mintRunToken({ ...alice, now: T0 }, privateKey);
    const [, body, sig] = good.split('.') as [string, string, string];
    expect(rejected(verifyRunToken(`tt1.${body}.`, publicKey, T0)).reason).toBe('unsigned');
    expect(rejected(verifyRunToken(good, other.publicKey, T0))).toEqual({ reason: 'signature', message: 'no trusted key verifies the signature' });
    const tampered = b64(Buffer.from(body, 'base64url').toString('utf8').replace('user:42', 'user:43'));
    expect(rejected(verifyRunToken(`tt1.${tampered}.${sig}`, publicKey, T0)).reason).toBe('signature');
    expect(rejected(verifyRunToken(`tt1.${body}.${Buffer.alloc(64).toString('base64url')}`, publicKey, T0)).reason).toBe('signature');
    expect(rejected(verifyRunToken(`tt1.${body}.${Buffer.alloc(32).toString('base64url')}`, publicKey, T0)).message).toMatch(/64 bytes/);
  });

  it('rejects signed payloads that are not JSON or not claims', () => {
    expect(rejected(verifyRunToken(signedRaw('{not json'), publicKey, T0)).reason).toBe('json');
    expect(rejected(verifyRunToken(signedRaw('[1,2]'), publicKey, T0)).reason).toBe('claims');
    expect(rejected(verifyRunToken(signedRaw('"x"'), publicKey, T0)).reason).toBe('claims');
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [claims({ v: 2 }), /v must be 1/],
      [claims({ runId: undefined }), /runId must be/],
      [claims({ runId: '' }), /runId must be/],
      [claims({ runId: 'x'.repeat(600) }), /runId must be/],
      [claims({ principal: undefined }), /principal must be an object/],
      [claims({ principal: { type: 'user' } }), /principal\.id must be/],
      [claims({ principal: { id: 7 } }), /principal\.id must be/],
      [claims({ principal: { id: 'u', role: 'admin' } }), /unknown claim "principal\.role"/],
      [claims({ agent: 'bot' }), /agent, when given, must be an object/],
      [claims({ agent: { name: '' } }), /agent\.name/],
      [claims({ agent: { owner: 'x' } }), /unknown claim "agent\.owner"/],
      [claims({ iat: undefined }), /iat must be/],
      [claims({ exp: '9' }), /exp must be/],
      [claims({ iat: 1.5 }), /iat must be/],
      [claims({ exp: T0 }), /exp must be after iat/],
      [claims({ exp: T0 + MAX_RUN_TOKEN_TTL_MS + 1 }), /lives at most/],
      [claims({ admin: true }), /unknown claim "admin"/],
      [claims({ kid: 'nope' }), /kid must be 16 hex/],
      [claims({ kid: runTokenKeyId(other.publicKey) }), /not the id of the key that signed it/],
    ];
    for (const [payload, message] of cases) {
      const r = rejected(verifyRunToken(signedRaw(JSON.stringify(payload)), publicKey, T0));
      expect(r.reason, JSON.stringify(payload)).toBe('claims');
      expect(r.message).toMatch(message);
    }
    expect(verifyRunToken(signedRaw(JSON.stringify(claims())), publicKey, T0).ok).toBe(true);
  });

  it('throws AuditConfigError for keys that are not Ed25519 keys of the right kind, and for bad mint input', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => mintRunToken(alice, publicKey)).toThrow(AuditConfigError);
    expect(() => mintRunToken(alice, rsa.privateKey)).toThrow(/Ed25519 private key/);
    expect(() => mintRunToken(alice, '/etc/passwd')).toThrow(AuditConfigError);
    expect(() => verifyRunToken('tt1.a.b', rsa.publicKey)).toThrow(AuditConfigError);
    expect(() => verifyRunToken('tt1.a.b', [])).toThrow(AuditConfigError);
    // a private key verifies as its public half
    expect(verifyRunToken(mintRunToken({ ...alice, now: T0 }, privateKey), privateKey, T0).ok).toBe(true);
    expect(() => mintRunToken({ ...alice, expiresInMs: 0 }, privateKey)).toThrow(/expiresInMs/);
    expect(() => mintRunToken({ ...alice, expiresInMs: MAX_RUN_TOKEN_TTL_MS + 1 }, privateKey)).toThrow(/expiresInMs/);
    expect(() => mintRunToken({ ...alice, principal: { id: '' } }, privateKey)).toThrow(/principal\.id/);
    expect(() => mintRunToken({ ...alice, runId: '' }, privateKey)).toThrow(/runId/);
  });
});

describe('createAuditor({ runTokenKey }) and currentRunToken()', () => {
  const auditor = (extra: Record<string, unknown>) =>
    createAuditor({ serviceName: 'run-token-test', exporter: new InMemorySpanExporter(), logger: { warn: () => undefined }, ...extra });

  it('gives each run a token for its own identity, and none outside a run or without a key', async () => {
    const a = auditor({ runTokenKey: privateKey, runTokenExpiresInMs: 120_000 });
    const plain = auditor({});
    try {
      expect(currentRunToken()).toBeUndefined();
      const token = await a.run(alice, () => currentRunToken());
      const r = verifyRunToken(token, publicKey);
      expect(r.ok && { runId: r.claims.runId, principal: r.claims.principal, agent: r.claims.agent, ttl: r.claims.expiresAt - r.claims.issuedAt }).toEqual({
        runId: 'run-1',
        principal: { id: 'user:42', type: 'user' },
        agent: { name: 'ops-bot', id: 'bot-1' },
        ttl: 120_000,
      });
      // a generated run id is the one in the token
      const [runId, generated] = await a.run({ principal: { id: 'u' } }, () => [currentRun()?.runId, currentRunToken()]);
      const g = verifyRunToken(generated, publicKey);
      expect(g.ok && g.claims.runId).toBe(runId);
      expect(await plain.run(alice, () => currentRunToken())).toBeUndefined();
      // a nested run of an auditor without a key is not vouched for by the outer run's key
      expect(await a.run(alice, () => plain.run({ principal: { id: 'other' } }, () => currentRunToken()))).toBeUndefined();
    } finally {
      await a.shutdown();
      await plain.shutdown();
    }
  });

  it('reuses the token until half its lifetime has passed, then mints a fresh one', async () => {
    const a = auditor({ runTokenKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), runTokenExpiresInMs: 60_000 });
    try {
      await a.run(alice, () => {
        const first = currentRunToken(T0);
        expect(currentRunToken(T0 + 29_999)).toBe(first);
        const renewed = currentRunToken(T0 + 30_000);
        expect(renewed).not.toBe(first);
        const r = verifyRunToken(renewed, publicKey, T0 + 30_000);
        expect(r.ok && r.claims.issuedAt).toBe(T0 + 30_000);
      });
    } finally {
      await a.shutdown();
    }
  });

  it('loads the key from a file, and refuses bad keys and a lifetime without a key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'run-token-'));
    const file = path.join(dir, 'run.key');
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
    const a = auditor({ runTokenKey: file });
    try {
      expect(verifyRunToken(await a.run(alice, () => currentRunToken()), publicKey).ok).toBe(true);
    } finally {
      await a.shutdown();
    }
    expect(() => auditor({ runTokenKey: publicKey })).toThrow(/run token key unusable/);
    expect(() => auditor({ runTokenKey: path.join(dir, 'missing.key') })).toThrow(AuditConfigError);
    expect(() => auditor({ runTokenKey: '' })).toThrow(AuditConfigError);
    expect(() => auditor({ runTokenExpiresInMs: 1000 })).toThrow(/needs runTokenKey/);
    expect(() => auditor({ runTokenKey: privateKey, runTokenExpiresInMs: MAX_RUN_TOKEN_TTL_MS + 1 })).toThrow(AuditConfigError);
  });
});
