import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.js';
import { checkpointSignatureValid, signCheckpoint, statementBytes } from './checkpoint.js';
import { ensureSigningKey, parsePublicKey, parseSigningKey, rawPublicKey, signingKeyFrom } from './signing-key.js';

const dir = mkdtempSync(path.join(tmpdir(), 'verity-signing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// RFC 8032 §7.1, test 1: this seed has this public key.
const SEED_HEX = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const PUBLIC_HEX = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

describe('signing keys', () => {
  it('accepts a raw seed as hex or base64 and a PKCS#8 PEM, and derives the key id from the raw public key', () => {
    const fromHex = parseSigningKey(SEED_HEX);
    const fromBase64 = parseSigningKey(Buffer.from(SEED_HEX, 'hex').toString('base64'));
    if (fromHex === undefined || fromBase64 === undefined) throw new Error('seed not parsed');
    const key = signingKeyFrom(fromHex);
    expect(Buffer.from(key.publicKeyBase64, 'base64').toString('hex')).toBe(PUBLIC_HEX);
    expect(key.keyId).toBe(createHash('sha256').update(Buffer.from(PUBLIC_HEX, 'hex')).digest('hex').slice(0, 16));
    expect(signingKeyFrom(fromBase64).keyId).toBe(key.keyId);

    const pem = fromHex.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(signingKeyFrom(parseSigningKey(pem) ?? fromBase64).keyId).toBe(key.keyId);
    // As an environment variable often carries it: one line with \n escapes.
    expect(parseSigningKey(pem.replace(/\n/g, '\\n'))).toBeDefined();
  });

  it('refuses what is not an Ed25519 private key, and config reports it without echoing it', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const bad of ['nope', 'AAAA', rsa, '-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----']) expect(parseSigningKey(bad)).toBeUndefined();
    try {
      loadConfig({ VERITY_SIGNING_KEY: 'not-a-key-secret-value' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(/VERITY_SIGNING_KEY must be an Ed25519 private key/);
      expect((error as ConfigError).message).not.toMatch(/not-a-key-secret-value/);
    }
    expect(loadConfig({ VERITY_SIGNING_KEY: SEED_HEX }).signingKey).toBeDefined();
  });

  it('generates a key into the data directory once (mode 0600) and reloads it', () => {
    const first = ensureSigningKey({ signingKey: undefined, dataDir: dir });
    expect(first.generated).toBe(true);
    const file = path.join(dir, 'signing-key.pem');
    expect(first.file).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = ensureSigningKey({ signingKey: undefined, dataDir: dir });
    expect(second.generated).toBe(false);
    expect(second.key.keyId).toBe(first.key.keyId);
    // An explicit key wins over the file.
    const explicit = parseSigningKey(SEED_HEX);
    expect(ensureSigningKey({ signingKey: explicit, dataDir: dir }).key.publicKeyBase64).toBe(Buffer.from(PUBLIC_HEX, 'hex').toString('base64'));
  });

  it('refuses a damaged key file instead of replacing it', () => {
    const damaged = mkdtempSync(path.join(dir, 'damaged-'));
    writeFileSync(path.join(damaged, 'signing-key.pem'), 'not a key');
    expect(() => ensureSigningKey({ signingKey: undefined, dataDir: damaged })).toThrow(/does not hold an Ed25519 private key/);
  });

  it('reads public keys as PEM, raw base64 or SPKI base64', () => {
    const key = signingKeyFrom(parseSigningKey(SEED_HEX) ?? failed());
    const der = key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    for (const form of [key.publicKeyPem, key.publicKeyBase64, der]) {
      const parsed = parsePublicKey(form);
      expect(parsed === undefined ? undefined : rawPublicKey(parsed).toString('hex')).toBe(PUBLIC_HEX);
    }
    expect(parsePublicKey('AAAA')).toBeUndefined();
  });

  it('signs the canonical statement; any change to it breaks the signature', () => {
    const key = signingKeyFrom(parseSigningKey(SEED_HEX) ?? failed());
    const statement = { organization_id: 'org_1', seq: 42, hash: 'a'.repeat(64), created_at: '2026-11-26T10:00:00.000Z' };
    expect(statementBytes(statement).toString()).toBe(`{"created_at":"2026-11-26T10:00:00.000Z","hash":"${'a'.repeat(64)}","organization_id":"org_1","seq":42}`);
    const signed = signCheckpoint(key, statement);
    expect(signed).toMatchObject({ object: 'audit_log_checkpoint', key_id: key.keyId, ...statement });
    expect(checkpointSignatureValid(key.publicKey, signed)).toBe(true);
    for (const change of [{ seq: 43 }, { hash: 'b'.repeat(64) }, { organization_id: 'org_2' }, { created_at: '2026-11-26T10:00:00.001Z' }, { signature: 'AAAA' }]) {
      expect(checkpointSignatureValid(key.publicKey, { ...signed, ...change })).toBe(false);
    }
  });
});

function failed(): never {
  throw new Error('key did not parse');
}
